// Batch normalization with its gradient rule.
//
// Note [fused batch norm]: the forward pass and a plain backward pass run as core's fused
// batch_norm passes: the statistics in one read of each channel, the normalization in one
// elementwise pass, and the backward in one reduction plus one elementwise pass, where the form
// composed from elementwise ops and reductions takes about a dozen passes over the tensor. When
// the backward pass is itself recorded (create_graph), the rule writes the same gradient with
// differentiable ops instead, recomputing the statistics from x, so that higher derivatives see
// how the mean and the variance depend on x.
#include "autograd/ops/batch_norm.h"

#include "autograd/grad_mode.h"
#include "autograd/ops/common.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/views.h"

namespace nabla {

using autograd::BackwardContext;
using autograd::record;
using autograd::save;
using Grads = std::vector<Tensor>;

namespace {

// The dims a statistic reduces: all but the channel dim 1.
Dims reduced_dims(const Tensor& x) {
  Dims dims{0};
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  return dims;
}

// [C] -> [1, C, 1, ...], to broadcast against x.
Tensor per_channel(const Tensor& v, const Tensor& x) {
  Shape shape(x.dim(), 1);
  shape[1] = v.size(0);
  return reshape(v, shape);
}

// With xhat = (x - mean) * rstd and gw = grad * weight:
//   dx = rstd * (gw - mean(gw) - xhat * mean(gw * xhat)),  dweight = sum(grad * xhat),
//   dbias = sum(grad).
Grads composed_backward(const BackwardContext& c, const Tensor& grad, const Tensor& x,
                        const Tensor& weight, double eps) {
  const Dims dims = reduced_dims(x);
  Tensor centered = sub(x, mean(x, dims, true));
  Tensor rstd = rsqrt(add(mean(mul(centered, centered), dims, true), eps));
  Tensor xhat = mul(centered, rstd);
  Grads grads(3);
  if (c.needs(0)) {
    Tensor gw = weight.defined() ? mul(grad, per_channel(weight, x)) : grad;
    Tensor projected = mul(xhat, mean(mul(gw, xhat), dims, true));
    grads[0] = mul(rstd, sub(sub(gw, mean(gw, dims, true)), projected));
  }
  if (c.needs(1)) grads[1] = sum(mul(grad, xhat), dims);
  if (c.needs(2)) grads[2] = sum(grad, dims);
  return grads;
}

// The same gradients from one reduction and one elementwise pass, on detached tensors. Per
// channel, with M values, k = weight * rstd and p = k * rstd^2 * sum(g (x - mean)) / M:
//   dx = g k - (x - mean) p - k sum(g) / M = x (-p) + (p mean - k sum(g) / M) + g k.
Grads fused_backward(const BackwardContext& c, const Tensor& grad, const Tensor& x,
                     const Tensor& weight, const Tensor& mean, const Tensor& var, double eps) {
  using core::binary;
  auto [sum_g, sum_gx] = core::batch_norm_backward_reduce(grad, x, mean);
  Tensor rstd = core::unary(UnaryOp::rsqrt, binary(BinaryOp::add, var, eps));
  Grads grads(3);
  if (c.needs(0)) {
    const double count = double(x.numel() / x.size(1));
    Tensor k = weight.defined() ? binary(BinaryOp::mul, core::to(weight, x.dtype()), rstd) : rstd;
    Tensor p = binary(BinaryOp::mul, binary(BinaryOp::mul, k, binary(BinaryOp::mul, rstd, rstd)),
                      binary(BinaryOp::div, sum_gx, count));
    Tensor shift = binary(BinaryOp::sub, binary(BinaryOp::mul, p, mean),
                          binary(BinaryOp::mul, k, binary(BinaryOp::div, sum_g, count)));
    grads[0] = core::batch_norm_apply(x, core::unary(UnaryOp::neg, p), shift, grad, k);
  }
  if (c.needs(1)) grads[1] = core::to(binary(BinaryOp::mul, sum_gx, rstd), weight.dtype());
  if (c.needs(2)) grads[2] = core::to(sum_g, grad.dtype());
  return grads;
}

}  // namespace

BatchNormResult batch_norm_training(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                    double eps, const BatchNormEpilogue& epilogue) {
  using core::binary;
  auto [batch_mean, batch_var] = core::batch_norm_stats(x);
  // y = x * scale + shift, scale = weight * rstd, shift = bias - mean * scale.
  Tensor scale = core::unary(UnaryOp::rsqrt, binary(BinaryOp::add, batch_var, eps));
  if (weight.defined()) scale = binary(BinaryOp::mul, scale, core::to(weight, x.dtype()));
  Tensor shift = core::unary(UnaryOp::neg, binary(BinaryOp::mul, batch_mean, scale));
  if (bias.defined()) shift = binary(BinaryOp::add, shift, core::to(bias, x.dtype()));
  // The epilogue's ReLU takes its gradient mask from the output, as relu does; the residual's
  // gradient is the gradient after that mask.
  const bool relu = epilogue.relu;
  Tensor y = record(
      "batch_norm", core::batch_norm_apply(x, scale, shift, Tensor(), Tensor(), epilogue),
      {x, weight, bias, epilogue.residual},
      [sx = save(x), sw = save(weight), mean = batch_mean, var = batch_var, eps,
       relu](const BackwardContext& c) -> Grads {
        Tensor x = sx.get(), w = sw.get();
        const Tensor grad = relu ? relu_backward(c.grad, c.output()) : c.grad;
        Grads grads = GradMode::is_enabled() ? composed_backward(c, grad, x, w, eps)
                                             : fused_backward(c, grad, x, w, mean, var, eps);
        grads.push_back(c.needs(3) ? grad : Tensor());
        return grads;
      },
      relu ? autograd::SaveOutput::yes : autograd::SaveOutput::no);
  return {y, batch_mean, batch_var};
}

}  // namespace nabla
