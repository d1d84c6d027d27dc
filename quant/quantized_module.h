// What the int8 modules share: the quantization of a uint8 edge between two of them (scale, zero
// point, integer range), kept as buffers so that state_dict() saves it, and the refresh that
// rebuilds derived state (packed weights, cached scalars) after a state dict is loaded.
#pragma once

#include <cstdint>
#include <string>

#include "core/tensor.h"
#include "nn/module.h"
#include "quant/int8_requant.h"
#include "quant/qscheme.h"

namespace nabla::quant {

// A uint8 activation's quantization, fixed at conversion: x = (q - zero_point) * scale with q in
// [qmin, qmax] (0 and 255, or 127 for reduce_range).
struct EdgeQParams {
  float scale = 1;
  int64_t zero_point = 0;
  int64_t qmin = 0, qmax = 255;

  // From an observer's per-tensor qparams. An int8 (signed) scheme moves to uint8 by adding 128 to
  // the zero point and the range, which keeps every representable value. A ValueError naming `op`
  // for per-channel or int4 qparams.
  static EdgeQParams from(const QParams& qparams, const char* op);
  // A ValueError naming `op` unless scale is positive and finite and
  // 0 <= qmin <= zero_point <= qmax <= 255.
  void validate(const char* op) const;
  Requantization requantization(bool relu = false) const {
    return Requantization::to_uint8(scale, zero_point, relu, qmin, qmax);
  }
  std::string to_string() const;  // "(scale=0.0235, zero_point=0)"
  bool operator==(const EdgeQParams&) const = default;
};

// clamp(nearbyint(x / scale) + zero_point, qmin, qmax) as uint8; x float32 (or float64), any shape.
Tensor quantize_uint8(const Tensor& x, const EdgeQParams& edge);
// (q - zero_point) * scale as float32; q uint8.
Tensor dequantize_uint8(const Tensor& q, const EdgeQParams& edge);

// A ValueError naming `op` unless x is a defined uint8 CPU tensor of `ndim` dims (0: any).
void check_uint8_input(const Tensor& x, int64_t ndim, const char* op);

class QuantizedModule : public nn::Module {
 public:
  // Re-reads the buffers and rebuilds what derives from them; load_quantized calls it after
  // loading a state dict, since Module::load_state_dict only copies values.
  virtual void refresh() {}

 protected:
  using nn::Module::Module;

  // Buffers <name>_scale (float32 [1]), <name>_zero_point and <name>_qrange (int64 [1] and [2]).
  void register_edge(const std::string& name, const EdgeQParams& edge);
  // The edge those buffers hold now, validated; `op` names the caller.
  EdgeQParams read_edge(const std::string& name, const char* op) const;
  // The buffer `name` (its absence is an internal error).
  Tensor buffer(const std::string& name) const;
};

}  // namespace nabla::quant
