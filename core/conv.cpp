// Convolution and pooling: shape rules and argument checks in front of the backend.
#include "core/checks.h"
#include "core/ops.h"

namespace nabla::core {

namespace {

int64_t conv_out_size(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dil) {
  return (in + 2 * pad - dil * (k - 1) - 1) / stride + 1;
}

void check_params(const Conv2dParams& p) {
  for (int i = 0; i < 2; ++i) {
    NABLA_CHECK(p.stride[i] > 0 && p.dilation[i] > 0 && p.padding[i] >= 0, ValueError,
                "conv2d: stride and dilation must be positive and padding non-negative, got "
                "stride ",
                p.stride[i], ", padding ", p.padding[i], ", dilation ", p.dilation[i]);
  }
  NABLA_CHECK(p.groups > 0, ValueError, "conv2d: groups must be positive, got ", p.groups);
}

}  // namespace

Shape conv2d_output_shape(const Shape& input, const Shape& weight, const Conv2dParams& p) {
  check_params(p);
  NABLA_CHECK(input.size() == 4 && weight.size() == 4, ShapeError,
              "conv2d: input and weight must be 4-d (NCHW and OIHW), got ", input, " and ", weight);
  NABLA_CHECK(input[1] == weight[1] * p.groups, ShapeError, "conv2d: input has ", input[1],
              " channels but weight expects ", weight[1] * p.groups, " (input ", input, ", weight ",
              weight, ", groups ", p.groups, ")");
  NABLA_CHECK(weight[0] % p.groups == 0, ShapeError, "conv2d: ", weight[0],
              " output channels are not divisible by ", p.groups, " groups (weight ", weight, ")");
  int64_t oh = conv_out_size(input[2], weight[2], p.stride[0], p.padding[0], p.dilation[0]);
  int64_t ow = conv_out_size(input[3], weight[3], p.stride[1], p.padding[1], p.dilation[1]);
  NABLA_CHECK(oh > 0 && ow > 0, ShapeError, "conv2d: the kernel ", weight,
              " (after dilation) is larger than the padded input ", input);
  return {input[0], weight[0], oh, ow};
}

Tensor conv2d(const Tensor& input, const Tensor& weight, const Conv2dParams& p,
              const Tensor& bias) {
  check_same_device(input, weight, "conv2d");
  NABLA_CHECK(input.dtype() == weight.dtype() && is_floating(input.dtype()), DTypeError,
              "conv2d: input and weight must share a floating dtype, got ", input.dtype(), " and ",
              weight.dtype());
  Tensor out = empty(conv2d_output_shape(input.shape(), weight.shape(), p),
                     {.dtype = input.dtype(), .device = input.device()});
  if (bias.defined()) {
    check_same_device(input, bias, "conv2d");
    NABLA_CHECK(bias.dim() == 1 && bias.size(0) == weight.size(0), ShapeError, "conv2d: bias ",
                bias.shape(), " does not match the weight's ", weight.size(0), " output channels");
    NABLA_CHECK(bias.dtype() == input.dtype(), DTypeError, "conv2d: bias is ", bias.dtype(),
                ", input and weight ", input.dtype());
  }
  backend(input.device())
      .conv2d(contiguous(input), contiguous(weight), bias.defined() ? contiguous(bias) : bias, p,
              out);
  return out;
}

Tensor conv2d_backward_data(const Tensor& grad_out, const Tensor& weight, const Shape& input_shape,
                            const Conv2dParams& p) {
  check_same_device(grad_out, weight, "conv2d_backward_data");
  NABLA_CHECK(conv2d_output_shape(input_shape, weight.shape(), p) == grad_out.shape(), ShapeError,
              "conv2d_backward_data: grad_out ", grad_out.shape(), " does not match input ",
              input_shape, " and weight ", weight.shape());
  Tensor grad_input = empty(input_shape, {.dtype = grad_out.dtype(), .device = grad_out.device()});
  backend(grad_out.device())
      .conv2d_backward_data(contiguous(grad_out), contiguous(to(weight, grad_out.dtype())), p,
                            grad_input);
  return grad_input;
}

Tensor conv2d_backward_weight(const Tensor& input, const Tensor& grad_out,
                              const Shape& weight_shape, const Conv2dParams& p) {
  check_same_device(input, grad_out, "conv2d_backward_weight");
  NABLA_CHECK(conv2d_output_shape(input.shape(), weight_shape, p) == grad_out.shape(), ShapeError,
              "conv2d_backward_weight: grad_out ", grad_out.shape(), " does not match input ",
              input.shape(), " and weight ", weight_shape);
  Tensor grad_weight =
      empty(weight_shape, {.dtype = grad_out.dtype(), .device = grad_out.device()});
  backend(input.device())
      .conv2d_backward_weight(contiguous(to(input, grad_out.dtype())), contiguous(grad_out), p,
                              grad_weight);
  return grad_weight;
}

Shape pool2d_output_shape(const Shape& input, const Pool2dParams& p, const char* op) {
  NABLA_CHECK(input.size() == 4, ShapeError, op, ": input must be 4-d (NCHW), got ", input);
  Shape out = input;
  for (int i = 0; i < 2; ++i) {
    NABLA_CHECK(p.kernel[i] > 0 && p.stride[i] > 0 && p.dilation[i] > 0, ValueError, op,
                ": kernel, stride and dilation must be positive");
    NABLA_CHECK(p.padding[i] >= 0 && p.padding[i] * 2 <= p.kernel[i], ValueError, op, ": padding ",
                p.padding[i], " must be between 0 and half the kernel size ", p.kernel[i]);
    int64_t span = p.dilation[i] * (p.kernel[i] - 1) + 1;
    int64_t room = input[2 + i] + 2 * p.padding[i] - span;
    NABLA_CHECK(room >= 0, ShapeError, op, ": the window (", span,
                ") is larger than the padded input ", input);
    int64_t size = (p.ceil_mode ? (room + p.stride[i] - 1) / p.stride[i] : room / p.stride[i]) + 1;
    // A last window that would start inside the right padding is dropped, like PyTorch.
    if (p.ceil_mode && (size - 1) * p.stride[i] >= input[2 + i] + p.padding[i]) --size;
    out[2 + i] = size;
  }
  return out;
}

std::pair<Tensor, Tensor> max_pool2d(const Tensor& x, const Pool2dParams& p) {
  check_defined(x, "max_pool2d");
  Shape shape = pool2d_output_shape(x.shape(), p, "max_pool2d");
  Tensor out = empty(shape, {.dtype = x.dtype(), .device = x.device()});
  Tensor indices = empty(shape, {.dtype = kInt64, .device = x.device()});
  backend(x.device()).max_pool2d(contiguous(x), p, out, indices);
  return {out, indices};
}

Tensor max_pool2d_backward(const Tensor& grad_out, const Tensor& indices,
                           const Shape& input_shape) {
  check_defined(grad_out, "max_pool2d_backward");
  check_defined(indices, "max_pool2d_backward");
  NABLA_CHECK(is_floating(grad_out.dtype()), DTypeError,
              "max_pool2d_backward: needs a floating grad_out, got ", grad_out.dtype());
  NABLA_CHECK(indices.dtype() == kInt64, DTypeError,
              "max_pool2d_backward: indices must be int64, got ", indices.dtype());
  NABLA_CHECK(grad_out.shape() == indices.shape(), ShapeError, "max_pool2d_backward: grad_out ",
              grad_out.shape(), " and indices ", indices.shape(), " differ");
  NABLA_CHECK(grad_out.dim() == 4 && input_shape.size() == 4 &&
                  grad_out.size(0) == input_shape[0] && grad_out.size(1) == input_shape[1],
              ShapeError, "max_pool2d_backward: grad_out ", grad_out.shape(),
              " does not match input ", input_shape);
  NABLA_CHECK(grad_out.device() == indices.device(), DeviceError,
              "max_pool2d_backward: grad_out is on ", grad_out.device(), ", indices on ",
              indices.device());
  Tensor grad_input = empty(input_shape, {.dtype = grad_out.dtype(), .device = grad_out.device()});
  backend(grad_out.device())
      .max_pool2d_backward(contiguous(grad_out), contiguous(indices), grad_input);
  return grad_input;
}

Tensor avg_pool2d(const Tensor& x, const Pool2dParams& p) {
  check_defined(x, "avg_pool2d");
  NABLA_CHECK(is_floating(x.dtype()), DTypeError, "avg_pool2d: needs a floating dtype, got ",
              x.dtype());
  Tensor out = empty(pool2d_output_shape(x.shape(), p, "avg_pool2d"),
                     {.dtype = x.dtype(), .device = x.device()});
  backend(x.device()).avg_pool2d(contiguous(x), p, out);
  return out;
}

Tensor avg_pool2d_backward(const Tensor& grad_out, const Shape& input_shape,
                           const Pool2dParams& p) {
  check_defined(grad_out, "avg_pool2d_backward");
  NABLA_CHECK(pool2d_output_shape(input_shape, p, "avg_pool2d_backward") == grad_out.shape(),
              ShapeError, "avg_pool2d_backward: grad_out ", grad_out.shape(),
              " does not match input ", input_shape);
  Tensor grad_input = empty(input_shape, {.dtype = grad_out.dtype(), .device = grad_out.device()});
  backend(grad_out.device()).avg_pool2d_backward(contiguous(grad_out), p, grad_input);
  return grad_input;
}

}  // namespace nabla::core
