// Inverse p-th roots of symmetric positive semi-definite matrices, (A + eps I)^(-1/p), by
// eigendecomposition or by a coupled Newton iteration: Shampoo's preconditioners.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace nabla::optim {

enum class RootMethod : uint8_t {
  eigh,    // A = Q diag(w) Q^T through LAPACK, then Q diag((w + eps)^(-1/p)) Q^T
  newton,  // the coupled Newton iteration of Guo & Higham (2006): matrix products only
};

// (A + eps I)^(-1/p) of a symmetric matrix a [n, n] whose eigenvalues are >= 0 (those that
// rounding makes negative count as 0); p >= 1, eps > 0. Computed in float64 on the CPU and
// returned in a's dtype and device.
Tensor inverse_root(const Tensor& a, int64_t p, double eps, RootMethod method);

}  // namespace nabla::optim
