// Conv2d: parameters, PyTorch's default initialization, and the call into autograd's conv2d.
#include "nn/conv.h"

#include <cmath>
#include <sstream>

#include "autograd/ops/conv.h"
#include "core/creation.h"
#include "core/error.h"
#include "nn/init.h"

namespace nabla::nn {

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
               Conv2dOptions options)
    : WeightedLayer("Conv2d"),
      in_channels_(in_channels),
      out_channels_(out_channels),
      kernel_size_(kernel_size) {
  NABLA_CHECK(in_channels > 0 && out_channels > 0 && kernel_size > 0 && options.groups > 0,
              ValueError, "Conv2d: channels, kernel size and groups must be positive, got in ",
              in_channels, ", out ", out_channels, ", kernel ", kernel_size, ", groups ",
              options.groups);
  NABLA_CHECK(in_channels % options.groups == 0 && out_channels % options.groups == 0, ValueError,
              "Conv2d: groups (", options.groups, ") must divide in_channels (", in_channels,
              ") and out_channels (", out_channels, ")");
  NABLA_CHECK(options.stride > 0 && options.dilation > 0 && options.padding >= 0, ValueError,
              "Conv2d: need stride > 0, dilation > 0 and padding >= 0, got ", options.stride, ", ",
              options.dilation, ", ", options.padding);
  params_.stride[0] = params_.stride[1] = options.stride;
  params_.padding[0] = params_.padding[1] = options.padding;
  params_.dilation[0] = params_.dilation[1] = options.dilation;
  params_.groups = options.groups;
  weight_ = register_parameter(
      "weight", empty({out_channels, in_channels / options.groups, kernel_size, kernel_size}));
  if (options.bias) bias_ = register_parameter("bias", empty({out_channels}));
  reset_parameters();
}

void Conv2d::reset_parameters() {
  // PyTorch's default: kaiming_uniform_ with a = sqrt(5) gives U(-1/sqrt(fan_in), ...).
  init::kaiming_uniform_(weight_, std::sqrt(5.0));
  if (bias_.defined()) {
    double bound = 1 / std::sqrt(double(init::fans(weight_).first));
    init::uniform_(bias_, -bound, bound);
  }
}

Tensor Conv2d::forward_with_weight(const Tensor& x, const Tensor& weight) {
  return conv2d(x, weight, bias_, params_);
}

std::string Conv2d::extra_repr() const {
  std::ostringstream os;
  os << in_channels_ << ", " << out_channels_ << ", kernel_size=" << kernel_size_
     << ", stride=" << params_.stride[0];
  if (params_.padding[0] != 0) os << ", padding=" << params_.padding[0];
  if (params_.dilation[0] != 1) os << ", dilation=" << params_.dilation[0];
  if (params_.groups != 1) os << ", groups=" << params_.groups;
  if (!bias_.defined()) os << ", bias=false";
  return os.str();
}

}  // namespace nabla::nn
