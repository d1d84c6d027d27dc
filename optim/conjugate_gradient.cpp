// Preconditioned conjugate gradient (Hestenes & Stiefel, 1952; Nocedal & Wright, Algorithm 5.3)
// with the early stop of Martens (2010), section 4.4.
#include "optim/conjugate_gradient.h"

#include <algorithm>
#include <cmath>

#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "core/ops.h"

namespace nabla::optim {

namespace {

// M^-1 r: elementwise by the preconditioner's inverse, or r itself without one.
ParamVector preconditioned(const ParamVector& r, const ParamVector& inverse_preconditioner) {
  if (inverse_preconditioner.empty()) return clone(r);
  ParamVector y;
  for (size_t i = 0; i < r.size(); ++i) y.push_back(r[i] * inverse_preconditioner[i]);
  return y;
}

}  // namespace

CgResult conjugate_gradient(const std::function<ParamVector(const ParamVector&)>& apply,
                            const ParamVector& b, ParamVector x0,
                            const ParamVector& inverse_preconditioner, const CgOptions& options) {
  NABLA_CHECK(x0.size() == b.size(), ValueError, "conjugate_gradient: a start of ", x0.size(),
              " tensors for ", b.size(), " parameters");
  NABLA_CHECK(options.max_iterations >= 0, ValueError,
              "conjugate_gradient: max_iterations must be non-negative, got ",
              options.max_iterations);
  NoGradGuard no_grad;
  CgResult result;
  ParamVector x = std::move(x0);
  // r = A x + b is phi's gradient; phi(x) = 1/2 x^T (r + b).
  ParamVector r = apply(x);
  axpy_(r, 1, b);
  auto phi = [&] { return 0.5 * (dot(x, r) + dot(x, b)); };
  // A warm start worse than no start at all (phi(0) = 0) is dropped.
  if (phi() > 0) {
    for (Tensor& t : x) core::fill_(t, 0.0);
    r = clone(b);
  }
  ParamVector y = preconditioned(r, inverse_preconditioner);
  ParamVector p = scaled(y, -1);
  double r_dot_y = dot(r, y);
  const double stop_norm = options.tolerance * std::sqrt(dot(b, b));
  std::vector<double> history = {phi()};  // phi at every iteration, for the progress test
  double next_save = 1;

  int64_t i = 0;
  while (i < options.max_iterations && std::sqrt(dot(r, r)) > stop_norm) {
    ParamVector ap = apply(p);
    const double curvature = dot(p, ap);
    if (!(curvature > 0)) {
      result.negative_curvature = true;
      break;
    }
    const double alpha = r_dot_y / curvature;
    axpy_(x, alpha, p);
    axpy_(r, alpha, ap);
    y = preconditioned(r, inverse_preconditioner);
    const double next_r_dot_y = dot(r, y);
    const double beta = next_r_dot_y / r_dot_y;
    r_dot_y = next_r_dot_y;
    p = difference(scaled(p, beta), y);  // p = -y + beta p
    ++i;
    history.push_back(phi());
    if (static_cast<double>(i) >= std::ceil(next_save)) {
      result.saved.push_back({i, clone(x), history.back()});
      while (std::ceil(next_save) <= static_cast<double>(i)) next_save *= options.save_ratio;
    }
    const int64_t k = std::max<int64_t>(10, i / 10);
    const double now = history.back();
    if (options.progress_tolerance > 0 && i > k && now < 0 &&
        (now - history[static_cast<size_t>(i - k)]) / now <
            static_cast<double>(k) * options.progress_tolerance)
      break;
  }
  result.iterations = i;
  if (result.saved.empty() || result.saved.back().iteration != i)
    result.saved.push_back({i, std::move(x), history.back()});
  return result;
}

}  // namespace nabla::optim
