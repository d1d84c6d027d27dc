// QuantizedConv2d.
#include "quant/quantized_conv.h"

#include <sstream>

#include "core/error.h"
#include "core/ops.h"
#include "quant/int8_conv.h"
#include "quant/quantized_weight.h"

namespace nabla::quant {

QuantizedConv2d::QuantizedConv2d(const Tensor& weight, const Tensor& weight_scale,
                                 const Tensor& bias, const Conv2dParams& params,
                                 const EdgeQParams& input, std::optional<EdgeQParams> output,
                                 bool relu)
    : QuantizedModule("QuantizedConv2d"),
      params_(params),
      input_(input),
      output_(output),
      relu_(relu) {
  CheckedWeight checked =
      check_quantized_weight(weight, weight_scale, bias, 4, "QuantizedConv2d::QuantizedConv2d");
  NABLA_CHECK(params.groups >= 1 && weight.size(0) % params.groups == 0, ValueError,
              "QuantizedConv2d::QuantizedConv2d: ", weight.size(0),
              " output channels do not split into ", params.groups, " groups");
  weight_ = register_buffer("weight", core::clone(weight));
  weight_scale_ = register_buffer("weight_scale", checked.scale);
  bias_ = register_buffer("bias", checked.bias);
  register_edge("input", input);
  if (output) register_edge("output", *output);
  packed_ = PackedInt8Weight(weight_, weight_scale_, params_.groups);
}

void QuantizedConv2d::refresh() {
  input_ = read_edge("input", "QuantizedConv2d::refresh");
  if (output_) output_ = read_edge("output", "QuantizedConv2d::refresh");
  packed_ = PackedInt8Weight(weight_, weight_scale_, params_.groups);
}

Tensor QuantizedConv2d::forward(const Tensor& x) {
  check_uint8_input(x, 4, "QuantizedConv2d::forward");
  const Requantization out =
      output_ ? output_->requantization(relu_) : Requantization::to_float(relu_);
  return int8_conv2d(x, input_.zero_point, input_.scale, packed_, bias_, params_, out);
}

Tensor QuantizedConv2d::reference_forward(const Tensor& x) const {
  check_uint8_input(x, 4, "QuantizedConv2d::reference_forward");
  Tensor y = core::conv2d(dequantize_uint8(x, input_), dequantize_weight(weight_, weight_scale_),
                          params_, bias_);
  if (relu_) y = core::unary(UnaryOp::relu, y);
  return output_ ? quantize_uint8(y, *output_) : y;
}

std::string QuantizedConv2d::extra_repr() const {
  std::ostringstream os;
  os << "in_channels=" << weight_.size(1) * params_.groups << ", out_channels=" << weight_.size(0)
     << ", kernel_size=(" << weight_.size(2) << ", " << weight_.size(3) << "), stride=("
     << params_.stride[0] << ", " << params_.stride[1] << "), padding=(" << params_.padding[0]
     << ", " << params_.padding[1] << ")";
  if (params_.dilation[0] != 1 || params_.dilation[1] != 1)
    os << ", dilation=(" << params_.dilation[0] << ", " << params_.dilation[1] << ")";
  if (params_.groups != 1) os << ", groups=" << params_.groups;
  os << ", input=" << input_.to_string()
     << ", output=" << (output_ ? output_->to_string() : std::string("float"))
     << ", relu=" << (relu_ ? "true" : "false");
  return os.str();
}

}  // namespace nabla::quant
