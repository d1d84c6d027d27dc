// Cyclic Jacobi: rotations that zero one off-diagonal pair at a time (Golub & Van Loan, Matrix
// Computations, 4th ed., section 8.5), until the off-diagonal part is negligible.
#include "hpo/symmetric_eigen.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"

namespace nabla::hpo {

SymmetricEigen symmetric_eigen(std::span<const double> a, int64_t n) {
  NABLA_CHECK(n >= 0 && static_cast<int64_t>(a.size()) == n * n, ValueError,
              "symmetric_eigen: expected ", n, " x ", n, " = ", n * n, " entries, got ", a.size());
  const auto N = static_cast<size_t>(n);
  std::vector<double> m(N * N), v(N * N, 0.0);
  for (size_t i = 0; i < N; ++i) {
    v[i * N + i] = 1;
    for (size_t j = i; j < N; ++j) m[i * N + j] = m[j * N + i] = a[i * N + j];
  }
  auto off_diagonal = [&] {
    double sum = 0;
    for (size_t i = 0; i < N; ++i)
      for (size_t j = i + 1; j < N; ++j) sum += m[i * N + j] * m[i * N + j];
    return sum;
  };
  double scale = 0;
  for (double x : m) scale += x * x;
  // Convergence is quadratic once the off-diagonal part is small; 50 sweeps is far beyond what a
  // matrix of this size needs.
  for (int sweep = 0; sweep < 50 && off_diagonal() > 1e-30 * scale; ++sweep) {
    for (size_t p = 0; p < N; ++p) {
      for (size_t q = p + 1; q < N; ++q) {
        const double apq = m[p * N + q];
        if (apq == 0) continue;
        // The rotation angle that zeroes m[p][q] (Golub & Van Loan, Algorithm 8.5.1), with the
        // smaller of the two roots for t = tan(theta) for stability.
        const double tau = (m[q * N + q] - m[p * N + p]) / (2 * apq);
        const double t = (tau >= 0 ? 1.0 : -1.0) / (std::abs(tau) + std::sqrt(1 + tau * tau));
        const double c = 1 / std::sqrt(1 + t * t), s = t * c;
        for (size_t k = 0; k < N; ++k) {  // m <- m J (columns p and q)
          const double mkp = m[k * N + p], mkq = m[k * N + q];
          m[k * N + p] = c * mkp - s * mkq;
          m[k * N + q] = s * mkp + c * mkq;
        }
        for (size_t k = 0; k < N; ++k) {  // m <- J^T m (rows p and q)
          const double mpk = m[p * N + k], mqk = m[q * N + k];
          m[p * N + k] = c * mpk - s * mqk;
          m[q * N + k] = s * mpk + c * mqk;
        }
        m[p * N + q] = m[q * N + p] = 0;
        for (size_t k = 0; k < N; ++k) {  // v <- v J
          const double vkp = v[k * N + p], vkq = v[k * N + q];
          v[k * N + p] = c * vkp - s * vkq;
          v[k * N + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  std::vector<size_t> order(N);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t i, size_t j) { return m[i * N + i] < m[j * N + j]; });
  SymmetricEigen out{std::vector<double>(N), std::vector<double>(N * N)};
  for (size_t j = 0; j < N; ++j) {
    out.values[j] = m[order[j] * N + order[j]];
    for (size_t k = 0; k < N; ++k) out.vectors[k * N + j] = v[k * N + order[j]];
  }
  return out;
}

}  // namespace nabla::hpo
