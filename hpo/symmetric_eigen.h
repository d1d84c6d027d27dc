// Eigendecomposition of a small symmetric matrix by cyclic Jacobi rotations: what CMA-ES needs to
// sample from and whiten by its covariance, without linking a LAPACK.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace nabla::hpo {

// a = vectors * diag(values) * vectors^T. Both matrices are n x n, row-major; column j of
// `vectors` is the unit eigenvector of values[j], and values come in ascending order.
struct SymmetricEigen {
  std::vector<double> values{};
  std::vector<double> vectors{};
};

// Only a's upper triangle is read. Cost O(n^3) per sweep, a handful of sweeps: meant for the tens
// of dimensions a hyperparameter search has, not for large matrices.
SymmetricEigen symmetric_eigen(std::span<const double> a, int64_t n);

}  // namespace nabla::hpo
