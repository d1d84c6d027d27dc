// Convolution and pooling with their gradient rules.
//
// Note [convolution adjoints]: conv2d is bilinear in (input, weight). Its gradient w.r.t. the
// input, conv2d_backward_data(grad_out, weight), is linear in both of its arguments, and so is
// conv2d_backward_weight(input, grad_out). Differentiating any of the three gives the other two,
// so the trio is closed under differentiation and double backward needs no new kernel.
#include "autograd/ops/conv.h"

#include "autograd/ops/common.h"
#include "autograd/ops/indexing.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/views.h"

namespace nabla {

using autograd::BackwardContext;
using autograd::record;
using autograd::save;
using Grads = std::vector<Tensor>;

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias,
              const Conv2dParams& params) {
  // The bias goes into the kernel, which adds it while each image's output is in cache.
  return record("conv2d", core::conv2d(input, weight, params, bias), {input, weight, bias},
                [sx = save(input), sw = save(weight), params](const BackwardContext& c) -> Grads {
                  Tensor x = sx.get(), w = sw.get();
                  return {
                      c.needs(0) ? conv2d_backward_data(c.grad, w, x.shape(), params) : Tensor(),
                      c.needs(1) ? conv2d_backward_weight(x, c.grad, w.shape(), params) : Tensor(),
                      c.needs(2) ? sum(c.grad, {0, 2, 3}) : Tensor()};
                });
}

Tensor conv2d_backward_data(const Tensor& grad_out, const Tensor& weight, const Shape& input_shape,
                            const Conv2dParams& params) {
  return record(
      "conv2d_backward_data", core::conv2d_backward_data(grad_out, weight, input_shape, params),
      {grad_out, weight},
      [sg = save(grad_out), sw = save(weight), params](const BackwardContext& c) -> Grads {
        Tensor gy = sg.get(), w = sw.get();
        return {c.needs(0) ? conv2d(c.grad, w, Tensor(), params) : Tensor(),
                c.needs(1) ? conv2d_backward_weight(c.grad, gy, w.shape(), params) : Tensor()};
      });
}

Tensor conv2d_backward_weight(const Tensor& input, const Tensor& grad_out,
                              const Shape& weight_shape, const Conv2dParams& params) {
  return record(
      "conv2d_backward_weight", core::conv2d_backward_weight(input, grad_out, weight_shape, params),
      {input, grad_out},
      [sx = save(input), sg = save(grad_out), params](const BackwardContext& c) -> Grads {
        Tensor x = sx.get(), gy = sg.get();
        return {c.needs(0) ? conv2d_backward_data(gy, c.grad, x.shape(), params) : Tensor(),
                c.needs(1) ? conv2d(x, c.grad, Tensor(), params) : Tensor()};
      });
}

Tensor max_pool2d(const Tensor& x, const Pool2dParams& params) {
  auto [out, indices] = core::max_pool2d(x, params);
  // (indices is init-captured: clang before 16 cannot capture a structured binding.)
  return record("max_pool2d", out, {x},
                [indices = indices, shape = x.shape()](const BackwardContext& c) -> Grads {
                  return {max_pool2d_backward(c.grad, indices, shape)};
                });
}

Tensor max_pool2d_backward(const Tensor& grad_out, const Tensor& indices,
                           const Shape& input_shape) {
  // Linear in grad_out: its adjoint reads, per [N * C] plane, the input gradient at each index.
  return record("max_pool2d_backward", core::max_pool2d_backward(grad_out, indices, input_shape),
                {grad_out}, [indices, shape = grad_out.shape()](const BackwardContext& c) -> Grads {
                  const int64_t planes = shape[0] * shape[1];
                  Tensor picked = gather(reshape(c.grad, {planes, -1}), 1,
                                         core::reshape(indices, {planes, -1}));
                  return {reshape(picked, shape)};
                });
}

Tensor avg_pool2d(const Tensor& x, const Pool2dParams& params) {
  return record("avg_pool2d", core::avg_pool2d(x, params), {x},
                [shape = x.shape(), params](const BackwardContext& c) -> Grads {
                  return {avg_pool2d_backward(c.grad, shape, params)};
                });
}

Tensor avg_pool2d_backward(const Tensor& grad_out, const Shape& input_shape,
                           const Pool2dParams& params) {
  // Linear in grad_out; its adjoint is the forward pooling.
  return record(
      "avg_pool2d_backward", core::avg_pool2d_backward(grad_out, input_shape, params), {grad_out},
      [params](const BackwardContext& c) -> Grads { return {avg_pool2d(c.grad, params)}; });
}

namespace {
Pool2dParams square_window(int64_t kernel, int64_t stride, int64_t padding) {
  Pool2dParams p;
  p.kernel[0] = p.kernel[1] = kernel;
  p.stride[0] = p.stride[1] = stride > 0 ? stride : kernel;
  p.padding[0] = p.padding[1] = padding;
  return p;
}
}  // namespace

Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  return max_pool2d(x, square_window(kernel, stride, padding));
}

Tensor avg_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  return avg_pool2d(x, square_window(kernel, stride, padding));
}

}  // namespace nabla
