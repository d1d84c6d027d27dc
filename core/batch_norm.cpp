// Batch normalization's passes: shape and dtype checks in front of the backend. Statistics and
// per-channel coefficients are [C] tensors of x's dtype.
#include "core/checks.h"
#include "core/creation.h"
#include "core/ops.h"

namespace nabla::core {

namespace {

void check_input(const Tensor& x, const char* op) {
  check_defined(x, op);
  NABLA_CHECK(x.dim() >= 2 && x.size(1) > 0, ShapeError, op, ": input must be [N, C, ...], got ",
              x.shape());
  NABLA_CHECK(is_floating(x.dtype()), DTypeError, op, ": needs a floating dtype, got ", x.dtype());
}

// A [C] tensor on x's device in x's dtype, made contiguous.
Tensor per_channel(const Tensor& v, const Tensor& x, const char* op, const char* what) {
  check_same_device(v, x, op);
  NABLA_CHECK(v.dim() == 1 && v.size(0) == x.size(1), ShapeError, op, ": ", what, " ", v.shape(),
              " must be [", x.size(1), "] for input ", x.shape());
  return contiguous(to(v, x.dtype()));
}

void check_same_shape(const Tensor& a, const Tensor& x, const char* op, const char* what) {
  check_same_device(a, x, op);
  NABLA_CHECK(a.shape() == x.shape(), ShapeError, op, ": ", what, " ", a.shape(),
              " must have the input's shape ", x.shape());
}

TensorOptions stat_options(const Tensor& x) { return {.dtype = x.dtype(), .device = x.device()}; }

}  // namespace

std::pair<Tensor, Tensor> batch_norm_stats(const Tensor& x) {
  check_input(x, "batch_norm_stats");
  NABLA_CHECK(x.numel() > 0, ShapeError, "batch_norm_stats: input ", x.shape(), " is empty");
  Tensor mean = empty({x.size(1)}, stat_options(x)), var = empty({x.size(1)}, stat_options(x));
  backend(x.device()).batch_norm_stats(contiguous(x), mean, var);
  return {mean, var};
}

std::pair<Tensor, Tensor> batch_norm_backward_reduce(const Tensor& grad_out, const Tensor& x,
                                                     const Tensor& mean) {
  const char* op = "batch_norm_backward_reduce";
  check_input(x, op);
  check_same_shape(grad_out, x, op, "grad_out");
  Tensor sum_g = empty({x.size(1)}, stat_options(x)), sum_gx = empty({x.size(1)}, stat_options(x));
  backend(x.device())
      .batch_norm_backward_reduce(contiguous(to(grad_out, x.dtype())), contiguous(x),
                                  per_channel(mean, x, op, "mean"), sum_g, sum_gx);
  return {sum_g, sum_gx};
}

Tensor batch_norm_apply(const Tensor& x, const Tensor& x_scale, const Tensor& shift,
                        const Tensor& g, const Tensor& g_scale, const BatchNormEpilogue& epilogue) {
  const char* op = "batch_norm_apply";
  check_input(x, op);
  NABLA_CHECK(g.defined() == g_scale.defined(), ValueError, op,
              ": g and g_scale come together or not at all");
  Tensor g_in, g_scale_in;
  if (g.defined()) {
    check_same_shape(g, x, op, "g");
    g_in = contiguous(to(g, x.dtype()));
    g_scale_in = per_channel(g_scale, x, op, "g_scale");
  }
  BatchNormEpilogue finish{.relu = epilogue.relu};
  if (epilogue.residual.defined()) {
    check_same_shape(epilogue.residual, x, op, "residual");
    finish.residual = contiguous(to(epilogue.residual, x.dtype()));
  }
  Tensor out = empty(x.shape(), stat_options(x));
  backend(x.device())
      .batch_norm_apply(contiguous(x), per_channel(x_scale, x, op, "x_scale"),
                        per_channel(shift, x, op, "shift"), g_in, g_scale_in, finish, out);
  return out;
}

}  // namespace nabla::core
