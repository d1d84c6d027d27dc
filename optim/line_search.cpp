// The strong-Wolfe line search: bracketing, then zooming with safeguarded cubic interpolation.
#include "optim/line_search.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

namespace nabla::optim {

// Note [strong Wolfe like PyTorch]
// The search follows Nocedal & Wright's algorithms with the choices of torch.optim.LBFGS (1.13):
// - bracketing extrapolates to the cubic's minimizer clamped to [t + 0.01 (t - t_prev), 10 t],
//   and stops at a point that breaks sufficient decrease, or (after the second trial) is no lower
//   than the previous one, or has a non-negative slope, or satisfies the curvature condition;
// - zooming takes the cubic's minimizer in the bracket, but when that lies within a tenth of the
//   bracket's width from an end twice running, or at an end, it moves to that tenth instead;
// - with the trials spent while bracketing, the lower of phi(0) and the last trial is returned.
// Matching these lets tests compare trajectories with PyTorch's at 1e-6.

namespace {

// The minimizer of the cubic through (a, fa, ga) and (b, fb, gb), clamped to [lo, hi]; the
// middle of [lo, hi] when the cubic has no minimizer.
double cubic_minimizer(double a, double fa, double ga, double b, double fb, double gb, double lo,
                       double hi) {
  double d1 = ga + gb - 3 * (fa - fb) / (a - b);
  double d2_square = d1 * d1 - ga * gb;
  if (d2_square < 0) return (lo + hi) / 2;
  double d2 = std::sqrt(d2_square);
  double t = a <= b ? b - (b - a) * ((gb + d2 - d1) / (gb - ga + 2 * d2))
                    : a - (a - b) * ((ga + d2 - d1) / (ga - gb + 2 * d2));
  return std::min(std::max(t, lo), hi);
}

}  // namespace

LineSearchResult strong_wolfe(const LineFunction& phi, const LinePoint& start, double t,
                              double p_max_abs, const StrongWolfeOptions& o) {
  const double f0 = start.loss, slope0 = start.slope;
  auto sufficient = [&](const LinePoint& p) {
    return p.loss <= f0 + o.sufficient_decrease * p.t * slope0;
  };
  auto curved = [&](const LinePoint& p) { return std::fabs(p.slope) <= -o.curvature * slope0; };

  LineSearchResult result;
  LinePoint previous = start;
  LinePoint current = phi(t);
  result.evaluations = 1;
  int64_t trials = 0;

  // ---- Bracketing: an interval that holds acceptable steps, or an acceptable step ----
  std::vector<LinePoint> bracket;
  bool done = false;
  while (trials < o.max_evaluations) {
    if (!sufficient(current) || (trials > 1 && current.loss >= previous.loss)) {
      bracket = {previous, current};
      break;
    }
    if (curved(current)) {
      bracket = {current};
      done = true;
      break;
    }
    if (current.slope >= 0) {
      bracket = {previous, current};
      break;
    }
    double next =
        cubic_minimizer(previous.t, previous.loss, previous.slope, current.t, current.loss,
                        current.slope, current.t + 0.01 * (current.t - previous.t), 10 * current.t);
    previous = std::move(current);
    current = phi(next);
    ++result.evaluations;
    ++trials;
  }
  if (trials == o.max_evaluations) bracket = {start, current};

  // ---- Zoom: shrink the bracket [low, high] (low: the lower loss) until a step is acceptable ----
  size_t low = bracket.front().loss <= bracket.back().loss ? 0 : 1;
  size_t high = 1 - low;
  bool insufficient_progress = false;
  while (!done && trials < o.max_evaluations) {
    double a = bracket[0].t, b = bracket[1].t;
    // A bracket of zero width (tolerance_change = 0) leaves nothing to interpolate.
    if (std::fabs(b - a) * p_max_abs < o.tolerance_change || a == b) break;
    double lo = std::min(a, b), hi = std::max(a, b);
    double next = cubic_minimizer(a, bracket[0].loss, bracket[0].slope, b, bracket[1].loss,
                                  bracket[1].slope, lo, hi);
    // Interpolation that keeps landing near an end shrinks the bracket too slowly.
    double margin = 0.1 * (hi - lo);
    if (std::min(hi - next, next - lo) < margin) {
      if (insufficient_progress || next >= hi || next <= lo) {
        next = std::fabs(next - hi) < std::fabs(next - lo) ? hi - margin : lo + margin;
        insufficient_progress = false;
      } else {
        insufficient_progress = true;
      }
    } else {
      insufficient_progress = false;
    }
    current = phi(next);
    ++result.evaluations;
    ++trials;

    if (!sufficient(current) || current.loss >= bracket[low].loss) {
      bracket[high] = std::move(current);
      low = bracket[0].loss <= bracket[1].loss ? 0 : 1;
      high = 1 - low;
      continue;
    }
    if (curved(current)) {
      done = true;
    } else if (current.slope * (bracket[high].t - bracket[low].t) >= 0) {
      bracket[high] = bracket[low];
    }
    bracket[low] = std::move(current);
  }
  result.point = bracket[low];
  return result;
}

}  // namespace nabla::optim
