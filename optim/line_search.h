// Line searches along a direction p from weights x: phi(t) = loss(x + t p), with the slope
// phi'(t) = grad(x + t p) . p. The strong-Wolfe search serves BFGS and L-BFGS.
#pragma once

#include <cstdint>
#include <functional>

#include "optim/param_vector.h"

namespace nabla::optim {

// phi and its slope at t, with the gradient there.
struct LinePoint {
  double t = 0;
  double loss = 0;
  ParamVector grad;
  double slope = 0;
};

// Evaluates the loss and gradient at x + t p (and leaves the weights there).
using LineFunction = std::function<LinePoint(double t)>;

struct StrongWolfeOptions {
  double sufficient_decrease = 1e-4;  // c1: phi(t) <= phi(0) + c1 t phi'(0)
  double curvature = 0.9;             // c2: |phi'(t)| <= c2 |phi'(0)|
  // The search stops once the bracket, times max |p|, is narrower than this.
  double tolerance_change = 1e-9;
  int64_t max_evaluations = 25;
};

struct LineSearchResult {
  LinePoint point;  // the accepted step (the lowest point seen when none satisfied the conditions)
  int64_t evaluations = 0;
};

// A step satisfying the strong Wolfe conditions, starting from trial step `t` (Nocedal & Wright,
// Algorithms 3.5 and 3.6): bracket by extrapolation, then zoom by cubic interpolation. It makes
// the choices torch.optim.LBFGS's search makes (Note [strong Wolfe like PyTorch]), so that
// trajectories match. `start` is phi at t = 0; `p_max_abs` is max |p|.
LineSearchResult strong_wolfe(const LineFunction& phi, const LinePoint& start, double t,
                              double p_max_abs, const StrongWolfeOptions& options = {});

}  // namespace nabla::optim
