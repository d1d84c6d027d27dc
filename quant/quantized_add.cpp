// QuantizedAdd and its kernel.
#include "quant/quantized_add.h"

#include <algorithm>
#include <cmath>

#include "core/creation.h"
#include "core/error.h"
#include "core/ops.h"

namespace nabla::quant {
namespace {

// Note [rounding by the magic number]: v + 1.5 * 2^23 - 1.5 * 2^23 rounds v to the nearest
// integer, ties to even (the FPU's default mode), for |v| < 2^22; unlike std::nearbyint it is two
// plain adds, which the compiler vectorizes at any -march. v is first clamped to [-512, 512]:
// beyond that every result saturates anyway (zo and the bounds lie in [0, 255]). It needs IEEE
// semantics: nabla is never built with -ffast-math.
constexpr float kMagic = 12582912.0f;

void add_kernel(const uint8_t* a, const uint8_t* b, uint8_t* out, int64_t n, float za, float ma,
                float zb, float mb, float zo, float lo, float hi) {
#pragma omp parallel for simd if (n > (1 << 15)) schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    // One explicit fma, so that no compiler contracts the sum differently (-ffp-contract).
    float v = std::fma(float(a[i]) - za, ma, (float(b[i]) - zb) * mb);
    v = std::min(512.0f, std::max(-512.0f, v));
    v = (v + kMagic) - kMagic;
    v = std::min(hi, std::max(lo, v + zo));
    out[i] = static_cast<uint8_t>(v);
  }
}

}  // namespace

Tensor quantized_add(const Tensor& a, const EdgeQParams& a_qparams, const Tensor& b,
                     const EdgeQParams& b_qparams, const EdgeQParams& output, bool relu) {
  check_uint8_input(a, 0, "quantized_add");
  check_uint8_input(b, 0, "quantized_add");
  NABLA_CHECK(a.shape() == b.shape(), ShapeError, "quantized_add: shapes ", a.shape(), " and ",
              b.shape(), " differ (no broadcasting)");
  const Tensor ac = core::contiguous(a), bc = core::contiguous(b);
  Tensor out = empty(a.shape(), {.dtype = kUInt8});
  const int64_t lo = relu ? std::max(output.qmin, output.zero_point) : output.qmin;
  add_kernel(ac.data<uint8_t>(), bc.data<uint8_t>(), out.data<uint8_t>(), a.numel(),
             float(a_qparams.zero_point), a_qparams.scale / output.scale,
             float(b_qparams.zero_point), b_qparams.scale / output.scale, float(output.zero_point),
             float(lo), float(output.qmax));
  return out;
}

QuantizedAdd::QuantizedAdd(const EdgeQParams& a, const EdgeQParams& b, const EdgeQParams& output,
                           bool relu)
    : QuantizedModule("QuantizedAdd"), a_(a), b_(b), output_(output), relu_(relu) {
  register_edge("a", a);
  register_edge("b", b);
  register_edge("output", output);
}

Tensor QuantizedAdd::add(const Tensor& a, const Tensor& b) const {
  return quantized_add(a, a_, b, b_, output_, relu_);
}

Tensor QuantizedAdd::forward(const Tensor& x) {
  NABLA_CHECK(false, ValueError, "QuantizedAdd::forward: an add takes two inputs, got one ",
              x.defined() ? x.shape() : Shape{}, "; call QuantizedAdd::add(a, b)");
  return Tensor();
}

void QuantizedAdd::refresh() {
  a_ = read_edge("a", "QuantizedAdd::refresh");
  b_ = read_edge("b", "QuantizedAdd::refresh");
  output_ = read_edge("output", "QuantizedAdd::refresh");
}

std::string QuantizedAdd::extra_repr() const {
  return "a=" + a_.to_string() + ", b=" + b_.to_string() + ", output=" + output_.to_string() +
         ", relu=" + (relu_ ? "true" : "false");
}

}  // namespace nabla::quant
