// Inverse p-th roots of symmetric matrices: through an eigendecomposition, or through the coupled
// Newton iteration, which needs only matrix products.
#include "optim/matrix_root.h"

#include <cmath>

#include "core/ops.h"

namespace nabla::optim {
namespace {

Tensor eigh_root(const Tensor& a, int64_t p, double eps) {
  auto [values, vectors] = core::eigh(a);
  // (w + eps)^(-1/p), with w clamped at 0: rounding may leave tiny negative eigenvalues.
  Tensor scale = core::binary(BinaryOp::maximum, values, 0.0);
  scale = core::unary(UnaryOp::pow_scalar, core::binary(BinaryOp::add, scale, eps),
                      -1.0 / static_cast<double>(p));
  // Q diag(s) Q^T: scaling Q's columns is a broadcast along the last dim.
  Tensor scaled = core::binary(BinaryOp::mul, vectors, scale);
  return core::matmul(scaled, core::transpose(vectors, 0, 1));
}

// m^p by repeated squaring.
Tensor matrix_power(Tensor m, int64_t p) {
  Tensor result;
  while (p > 0) {
    if (p & 1) result = result.defined() ? core::matmul(result, m) : m;
    p >>= 1;
    if (p > 0) m = core::matmul(m, m);
  }
  return result;
}

double max_abs_off_identity(const Tensor& m) {
  Tensor diff = core::binary(BinaryOp::sub, m, eye(m.size(0), {.dtype = kFloat64}));
  return core::reduce(ReduceOp::max, core::unary(UnaryOp::abs, diff), {}, false).item();
}

// Guo & Higham (2006): with X_0 = z^(1/p) I and M_0 = z A, the iteration
//   T_k = ((p + 1) I - M_k) / p,  X_{k+1} = X_k T_k,  M_{k+1} = T_k^p M_k
// keeps M_k = X_k^p A, and M_k -> I, so X_k -> A^(-1/p), provided A's eigenvalues scaled by z lie
// in (0, p + 1). z = (p + 1) / (2 |A|_F) puts them in (0, (p + 1) / 2], since |A|_F bounds the
// largest eigenvalue. X, M and T are polynomials in A, so they commute.
Tensor newton_root(const Tensor& a, int64_t p, double eps) {
  const int64_t n = a.size(0);
  const auto dp = static_cast<double>(p);
  Tensor identity = eye(n, {.dtype = kFloat64});
  Tensor shifted = core::binary(BinaryOp::add, a, core::binary(BinaryOp::mul, identity, eps));
  double frobenius = std::sqrt(
      core::reduce(ReduceOp::sum, core::binary(BinaryOp::mul, shifted, shifted), {}, false).item());
  double z = (dp + 1) / (2 * frobenius);
  Tensor x = core::binary(BinaryOp::mul, identity, std::pow(z, 1 / dp));
  Tensor m = core::binary(BinaryOp::mul, shifted, z);
  double error = max_abs_off_identity(m);
  // Converges quadratically once M is near I; it stops when rounding keeps M from getting closer.
  constexpr int kMaxIterations = 100;
  for (int i = 0; i < kMaxIterations && error > 1e-15; ++i) {
    Tensor t = core::binary(
        BinaryOp::div,
        core::binary(BinaryOp::sub, core::binary(BinaryOp::mul, identity, dp + 1), m), dp);
    Tensor next_x = core::matmul(x, t);
    Tensor next_m = core::matmul(matrix_power(t, p), m);
    double next_error = max_abs_off_identity(next_m);
    if (next_error >= error && error < 1e-6) break;
    x = next_x;
    m = next_m;
    error = next_error;
  }
  return x;
}

}  // namespace

Tensor inverse_root(const Tensor& a, int64_t p, double eps, RootMethod method) {
  NABLA_CHECK(a.dim() == 2 && a.size(0) == a.size(1), ShapeError,
              "inverse_root: needs a square matrix, got shape ", a.shape());
  NABLA_CHECK(p >= 1, ValueError, "inverse_root: p must be >= 1, got ", p);
  NABLA_CHECK(eps > 0, ValueError, "inverse_root: eps must be > 0, got ", eps);
  Tensor a64 = core::to(core::to(a, Device::cpu()), kFloat64);
  Tensor root = method == RootMethod::eigh ? eigh_root(a64, p, eps) : newton_root(a64, p, eps);
  return core::to(core::to(root, a.dtype()), a.device());
}

}  // namespace nabla::optim
