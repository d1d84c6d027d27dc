// DynamicQuantizedLinear.
#include "quant/quantized_dynamic_linear.h"

#include <cmath>
#include <sstream>

#include "core/error.h"
#include "core/ops.h"
#include "quant/int8_linear.h"
#include "quant/quantized_weight.h"

namespace nabla::quant {

DynamicQuantizedLinear::DynamicQuantizedLinear(const Tensor& weight, const Tensor& weight_scale,
                                               const Tensor& bias)
    : QuantizedModule("DynamicQuantizedLinear") {
  CheckedWeight checked = check_quantized_weight(weight, weight_scale, bias, 2,
                                                 "DynamicQuantizedLinear::DynamicQuantizedLinear");
  weight_ = register_buffer("weight", core::clone(weight));
  weight_scale_ = register_buffer("weight_scale", checked.scale);
  bias_ = register_buffer("bias", checked.bias);
  packed_ = PackedInt8Weight(weight_, weight_scale_);
}

void DynamicQuantizedLinear::refresh() { packed_ = PackedInt8Weight(weight_, weight_scale_); }

EdgeQParams DynamicQuantizedLinear::activation_qparams(const Tensor& x) {
  NABLA_CHECK(x.defined() && is_floating(x.dtype()) && x.numel() > 0, DTypeError,
              "DynamicQuantizedLinear: input must be a non-empty float tensor, got ",
              x.defined() ? x.shape() : Shape{});
  const float lo = core::reduce(ReduceOp::min, x, {}, false).item<float>();
  const float hi = core::reduce(ReduceOp::max, x, {}, false).item<float>();
  NABLA_CHECK(std::isfinite(lo) && std::isfinite(hi), ValueError,
              "DynamicQuantizedLinear: input holds non-finite values (min ", lo, ", max ", hi, ")");
  const ScalarQParams q = choose_qparams(lo, hi, QScheme{.dtype = QDType::uint8});
  return {.scale = q.scale, .zero_point = q.zero_point};
}

Tensor DynamicQuantizedLinear::forward(const Tensor& x) {
  NABLA_CHECK(x.defined() && x.dim() >= 1 && x.size(-1) == in_features(), ShapeError,
              "DynamicQuantizedLinear::forward: input ", x.defined() ? x.shape() : Shape{},
              " does not end in ", in_features(), " features");
  const EdgeQParams edge = activation_qparams(x);
  return int8_linear(quantize_uint8(x, edge), edge.zero_point, edge.scale, packed_, bias_,
                     Requantization::to_float());
}

Tensor DynamicQuantizedLinear::reference_forward(const Tensor& x) const {
  const EdgeQParams edge = activation_qparams(x);
  Tensor y = core::matmul(dequantize_uint8(quantize_uint8(x, edge), edge),
                          core::transpose(dequantize_weight(weight_, weight_scale_), 0, 1));
  return core::binary(BinaryOp::add, y, bias_);
}

std::string DynamicQuantizedLinear::extra_repr() const {
  std::ostringstream os;
  os << "in_features=" << in_features() << ", out_features=" << out_features()
     << ", weight=int8 per-channel, activations=uint8 per batch";
  return os.str();
}

}  // namespace nabla::quant
