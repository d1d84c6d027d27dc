// Preconditioned conjugate gradient on a quadratic model, for truncated-Newton methods: it
// minimizes phi(x) = 1/2 x^T A x + b^T x (that is, solves A x = -b) through products with A
// only, stops early by Martens' (2010) relative-progress test, and keeps a few iterates along the
// way for Hessian-free's backtracking.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "optim/param_vector.h"

namespace nabla::optim {

struct CgOptions {
  int64_t max_iterations = 50;
  // Stops once the residual norm is at most tolerance * |b|.
  double tolerance = 1e-6;
  // Martens' test: stops at iteration i > k = max(10, i / 10) when phi_i < 0 and
  // (phi_i - phi_{i-k}) / phi_i < k * progress_tolerance (0 turns it off).
  double progress_tolerance = 5e-4;
  // Keeps the iterates at ceil(save_ratio^j) (and the last), for backtracking.
  double save_ratio = 1.3;
};

struct CgIterate {
  int64_t iteration = 0;
  ParamVector x;
  double phi = 0;  // the model's value at x
};

struct CgResult {
  std::vector<CgIterate> saved;  // in order of iteration; the last is where CG stopped
  int64_t iterations = 0;
  // A search direction p had p^T A p <= 0, so A is not positive definite along it; CG stopped
  // before moving along p.
  bool negative_curvature = false;
};

// From x0 (a warm start, dropped for zeros when phi(x0) > 0 = phi(0)), preconditioned by the
// diagonal M whose inverse is `inverse_preconditioner` (empty: none). `apply` returns A v.
CgResult conjugate_gradient(const std::function<ParamVector(const ParamVector&)>& apply,
                            const ParamVector& b, ParamVector x0,
                            const ParamVector& inverse_preconditioner, const CgOptions& options);

}  // namespace nabla::optim
