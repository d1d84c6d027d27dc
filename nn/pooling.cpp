// Pooling layers. Adaptive pooling reduces to one plain pooling call when the input size is a
// multiple of the output size (always so in the CIFAR models), else averages each window.
#include "nn/pooling.h"

#include <sstream>

#include "autograd/ops/conv.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/views.h"
#include "core/error.h"

namespace nabla::nn {
namespace {

Pool2dParams make_params(const char* layer, int64_t kernel, const Pool2dOptions& options) {
  int64_t stride = options.stride == 0 ? kernel : options.stride;
  NABLA_CHECK(kernel > 0 && stride > 0 && options.padding >= 0 && 2 * options.padding <= kernel,
              ValueError, layer, ": need kernel > 0, stride > 0 and 0 <= padding <= kernel / 2, ",
              "got kernel ", kernel, ", stride ", stride, ", padding ", options.padding);
  Pool2dParams params;
  params.kernel[0] = params.kernel[1] = kernel;
  params.stride[0] = params.stride[1] = stride;
  params.padding[0] = params.padding[1] = options.padding;
  params.ceil_mode = options.ceil_mode;
  params.count_include_pad = options.count_include_pad;
  return params;
}

std::string describe(const Pool2dParams& params) {
  std::ostringstream os;
  os << "kernel_size=" << params.kernel[0] << ", stride=" << params.stride[0]
     << ", padding=" << params.padding[0];
  if (params.ceil_mode) os << ", ceil_mode=true";
  return os.str();
}

}  // namespace

MaxPool2d::MaxPool2d(int64_t kernel_size, Pool2dOptions options)
    : Module("MaxPool2d"), params_(make_params("MaxPool2d", kernel_size, options)) {}

Tensor MaxPool2d::forward(const Tensor& x) { return max_pool2d(x, params_); }

std::string MaxPool2d::extra_repr() const { return describe(params_); }

AvgPool2d::AvgPool2d(int64_t kernel_size, Pool2dOptions options)
    : Module("AvgPool2d"), params_(make_params("AvgPool2d", kernel_size, options)) {}

Tensor AvgPool2d::forward(const Tensor& x) { return avg_pool2d(x, params_); }

std::string AvgPool2d::extra_repr() const { return describe(params_); }

Tensor adaptive_avg_pool2d(const Tensor& x, int64_t output_height, int64_t output_width) {
  NABLA_CHECK(x.dim() == 4, ShapeError, "adaptive_avg_pool2d: input must be [N, C, H, W], got ",
              x.shape());
  NABLA_CHECK(output_height > 0 && output_width > 0, ValueError,
              "adaptive_avg_pool2d: output size must be positive, got ", output_height, "x",
              output_width);
  const int64_t height = x.size(2), width = x.size(3);
  if (output_height == 1 && output_width == 1) return mean(x, {2, 3}, /*keepdim=*/true);
  if (height % output_height == 0 && width % output_width == 0) {
    Pool2dParams params;
    params.kernel[0] = params.stride[0] = height / output_height;
    params.kernel[1] = params.stride[1] = width / output_width;
    return avg_pool2d(x, params);
  }
  std::vector<Tensor> rows;
  for (int64_t i = 0; i < output_height; ++i) {
    int64_t top = i * height / output_height;
    int64_t bottom = ((i + 1) * height + output_height - 1) / output_height;
    std::vector<Tensor> cells;
    for (int64_t j = 0; j < output_width; ++j) {
      int64_t left = j * width / output_width;
      int64_t right = ((j + 1) * width + output_width - 1) / output_width;
      Tensor window = slice(slice(x, 2, top, bottom), 3, left, right);
      cells.push_back(mean(window, {2, 3}));  // [N, C]
    }
    rows.push_back(stack(cells, 2));  // [N, C, OW]
  }
  return stack(rows, 2);  // [N, C, OH, OW]
}

AdaptiveAvgPool2d::AdaptiveAvgPool2d(int64_t output_height, int64_t output_width)
    : Module("AdaptiveAvgPool2d"), output_height_(output_height), output_width_(output_width) {}

std::string AdaptiveAvgPool2d::extra_repr() const {
  std::ostringstream os;
  os << "output_size=(" << output_height_ << ", " << output_width_ << ")";
  return os.str();
}

}  // namespace nabla::nn
