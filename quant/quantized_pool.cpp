// QuantizedMaxPool2d and QuantizedGlobalAvgPool2d over the uint8 kernels.
#include "quant/quantized_pool.h"

#include <sstream>

#include "core/error.h"
#include "quant/kernels/uint8_pool.h"

namespace nabla::quant {

QuantizedMaxPool2d::QuantizedMaxPool2d(const Pool2dParams& params)
    : QuantizedModule("QuantizedMaxPool2d"), params_(params) {
  for (int d = 0; d < 2; ++d)
    NABLA_CHECK(params.kernel[d] >= 1 && params.stride[d] >= 1 && params.padding[d] >= 0 &&
                    params.dilation[d] >= 1,
                ValueError, "QuantizedMaxPool2d: kernel ", params.kernel[d], ", stride ",
                params.stride[d], ", padding ", params.padding[d], " and dilation ",
                params.dilation[d], " must be positive (padding non-negative)");
}

Tensor QuantizedMaxPool2d::forward(const Tensor& x) {
  check_uint8_input(x, 4, "QuantizedMaxPool2d::forward");
  return kernels::uint8_max_pool2d(x, params_);
}

std::string QuantizedMaxPool2d::extra_repr() const {
  std::ostringstream os;
  os << "kernel_size=(" << params_.kernel[0] << ", " << params_.kernel[1] << "), stride=("
     << params_.stride[0] << ", " << params_.stride[1] << "), padding=(" << params_.padding[0]
     << ", " << params_.padding[1] << ")";
  if (params_.ceil_mode) os << ", ceil_mode=true";
  return os.str();
}

Tensor QuantizedGlobalAvgPool2d::forward(const Tensor& x) {
  check_uint8_input(x, 4, "QuantizedGlobalAvgPool2d::forward");
  return kernels::uint8_global_avg_pool2d(x);
}

}  // namespace nabla::quant
