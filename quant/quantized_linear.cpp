// QuantizedLinear.
#include "quant/quantized_linear.h"

#include <sstream>

#include "core/error.h"
#include "core/ops.h"
#include "quant/int8_linear.h"
#include "quant/quantized_weight.h"

namespace nabla::quant {

QuantizedLinear::QuantizedLinear(const Tensor& weight, const Tensor& weight_scale,
                                 const Tensor& bias, const EdgeQParams& input,
                                 std::optional<EdgeQParams> output, bool relu)
    : QuantizedModule("QuantizedLinear"), input_(input), output_(output), relu_(relu) {
  CheckedWeight checked =
      check_quantized_weight(weight, weight_scale, bias, 2, "QuantizedLinear::QuantizedLinear");
  weight_ = register_buffer("weight", core::clone(weight));
  weight_scale_ = register_buffer("weight_scale", checked.scale);
  bias_ = register_buffer("bias", checked.bias);
  register_edge("input", input);
  if (output) register_edge("output", *output);
  packed_ = PackedInt8Weight(weight_, weight_scale_);
}

void QuantizedLinear::refresh() {
  input_ = read_edge("input", "QuantizedLinear::refresh");
  if (output_) output_ = read_edge("output", "QuantizedLinear::refresh");
  packed_ = PackedInt8Weight(weight_, weight_scale_);
}

Tensor QuantizedLinear::forward(const Tensor& x) {
  check_uint8_input(x, 0, "QuantizedLinear::forward");
  NABLA_CHECK(x.dim() >= 1 && x.size(-1) == in_features(), ShapeError,
              "QuantizedLinear::forward: input ", x.shape(), " does not end in ", in_features(),
              " features");
  const Requantization out =
      output_ ? output_->requantization(relu_) : Requantization::to_float(relu_);
  return int8_linear(x, input_.zero_point, input_.scale, packed_, bias_, out);
}

Tensor QuantizedLinear::reference_forward(const Tensor& x) const {
  check_uint8_input(x, 0, "QuantizedLinear::reference_forward");
  // [..., K] @ [K, N] + [N]
  Tensor y = core::matmul(dequantize_uint8(x, input_),
                          core::transpose(dequantize_weight(weight_, weight_scale_), 0, 1));
  y = core::binary(BinaryOp::add, y, bias_);
  if (relu_) y = core::unary(UnaryOp::relu, y);
  return output_ ? quantize_uint8(y, *output_) : y;
}

std::string QuantizedLinear::extra_repr() const {
  std::ostringstream os;
  os << "in_features=" << in_features() << ", out_features=" << out_features()
     << ", input=" << input_.to_string()
     << ", output=" << (output_ ? output_->to_string() : std::string("float"))
     << ", relu=" << (relu_ ? "true" : "false");
  return os.str();
}

}  // namespace nabla::quant
