// Vectors over several parameters: reductions in float64 and untracked updates through core.
#include "optim/param_vector.h"

#include <algorithm>
#include <cmath>

#include "core/ops.h"

namespace nabla::optim {

namespace {

double total(const Tensor& t) {
  return core::reduce(ReduceOp::sum, core::to(t, kFloat64), {}, false).item();
}

void check_sizes(const ParamVector& a, const ParamVector& b, const char* op) {
  NABLA_CHECK(a.size() == b.size(), ShapeError, op, ": vectors over ", a.size(), " and ", b.size(),
              " parameters");
}

}  // namespace

double dot(const ParamVector& a, const ParamVector& b) {
  check_sizes(a, b, "optim::dot");
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += total(core::binary(BinaryOp::mul, a[i], b[i]));
  return sum;
}

double max_abs(const ParamVector& a) {
  double largest = 0;
  for (const Tensor& t : a) {
    if (t.numel() == 0) continue;
    double m = core::reduce(ReduceOp::max, core::unary(UnaryOp::abs, t), {}, false).item();
    // A NaN must not vanish into the maximum: callers compare the result with tolerances.
    largest = std::isnan(m) ? m : std::max(largest, m);
    if (std::isnan(largest)) break;
  }
  return largest;
}

double sum_abs(const ParamVector& a) {
  double sum = 0;
  for (const Tensor& t : a) sum += total(core::unary(UnaryOp::abs, t));
  return sum;
}

ParamVector clone(const ParamVector& a) {
  ParamVector copy;
  for (const Tensor& t : a) copy.push_back(core::clone(t));
  return copy;
}

ParamVector scaled(const ParamVector& a, double alpha) {
  ParamVector result;
  for (const Tensor& t : a) result.push_back(core::binary(BinaryOp::mul, t, alpha));
  return result;
}

ParamVector difference(const ParamVector& a, const ParamVector& b) {
  check_sizes(a, b, "optim::difference");
  ParamVector result;
  for (size_t i = 0; i < a.size(); ++i) result.push_back(core::binary(BinaryOp::sub, a[i], b[i]));
  return result;
}

void axpy_(const ParamVector& y, double alpha, const ParamVector& x) {
  check_sizes(y, x, "optim::axpy_");
  for (size_t i = 0; i < y.size(); ++i)
    core::binary_(BinaryOp::add, y[i], core::binary(BinaryOp::mul, x[i], alpha));
}

void copy_(const ParamVector& y, const ParamVector& x) {
  check_sizes(y, x, "optim::copy_");
  for (size_t i = 0; i < y.size(); ++i) core::copy_(y[i], x[i]);
}

Tensor flatten(const ParamVector& a) {
  std::vector<Tensor> pieces;
  for (const Tensor& t : a)
    pieces.push_back(core::reshape(core::to(core::to(t, kFloat64), Device::cpu()), {t.numel()}));
  if (pieces.empty()) return zeros({0}, {.dtype = kFloat64});
  return core::cat(pieces, 0);
}

ParamVector unflatten(const Tensor& flat, const ParamVector& like) {
  int64_t n = 0;
  for (const Tensor& t : like) n += t.numel();
  NABLA_CHECK(flat.dim() == 1 && flat.numel() == n, ShapeError, "optim::unflatten: got shape ",
              flat.shape(), " for parameters of ", n, " elements in all");
  ParamVector result;
  int64_t start = 0;
  for (const Tensor& t : like) {
    Tensor piece = core::reshape(core::slice(flat, 0, start, start + t.numel()), t.shape());
    // A copy even when no conversion is needed, so that no slice shares `flat`'s storage.
    result.push_back(core::clone(core::to(core::to(piece, t.dtype()), t.device())));
    start += t.numel();
  }
  return result;
}

}  // namespace nabla::optim
