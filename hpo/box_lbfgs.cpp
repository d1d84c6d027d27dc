// Projected L-BFGS: the two-loop recursion (Nocedal & Wright, "Numerical Optimization", 2006,
// Algorithm 7.4) on the free variables, and a backtracking Armijo search along the projected path
// P(x + t d), as in Bertsekas' projected Newton methods (1982).
#include "hpo/box_lbfgs.h"

#include <algorithm>
#include <cmath>
#include <deque>

#include "core/error.h"

namespace nabla::hpo {

namespace {

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

struct Pair {
  std::vector<double> s, y;
  double rho;
};

}  // namespace

void BoxLbfgsOptions::validate() const {
  NABLA_CHECK(max_iterations >= 1, ValueError,
              "BoxLbfgsOptions::validate: max_iterations must be >= 1, got ", max_iterations);
  NABLA_CHECK(history >= 1, ValueError, "BoxLbfgsOptions::validate: history must be >= 1, got ",
              history);
  NABLA_CHECK(gradient_tolerance >= 0 && value_tolerance >= 0, ValueError,
              "BoxLbfgsOptions::validate: tolerances must be >= 0, got ", gradient_tolerance,
              " and ", value_tolerance);
}

BoxLbfgsResult minimize_box(const BoxObjective& f, std::vector<double> x0,
                            const std::vector<double>& lo, const std::vector<double>& hi,
                            const BoxLbfgsOptions& options) {
  options.validate();
  const size_t n = x0.size();
  NABLA_CHECK(lo.size() == n && hi.size() == n, ValueError, "minimize_box: x0 has ", n,
              " components but the box ", lo.size(), " and ", hi.size());
  for (size_t i = 0; i < n; ++i) {
    NABLA_CHECK(lo[i] <= hi[i], ValueError, "minimize_box: bound ", i, " has lo ", lo[i], " > hi ",
                hi[i]);
    x0[i] = std::clamp(x0[i], lo[i], hi[i]);
  }
  BoxLbfgsResult result;
  std::vector<double>& x = result.x;
  x = std::move(x0);
  std::vector<double> g(n), gn(n), xn(n), q(n), d(n), step(n);
  double fx = f(x, g);
  result.evaluations = 1;
  std::deque<Pair> memory;

  for (; std::isfinite(fx) && result.iterations < options.max_iterations; ++result.iterations) {
    // A variable on a bound whose gradient pushes outwards stays there this iteration.
    double largest = 0;
    for (size_t i = 0; i < n; ++i) {
      const bool active = (x[i] <= lo[i] && g[i] > 0) || (x[i] >= hi[i] && g[i] < 0);
      q[i] = active ? 0.0 : g[i];
      largest = std::max(largest, std::abs(q[i]));
    }
    if (largest <= options.gradient_tolerance) break;
    const std::vector<double> free_gradient = q;

    std::vector<double> alpha(memory.size());
    for (size_t k = memory.size(); k-- > 0;) {
      alpha[k] = memory[k].rho * dot(memory[k].s, q);
      for (size_t i = 0; i < n; ++i) q[i] -= alpha[k] * memory[k].y[i];
    }
    // The initial inverse Hessian: s.y / y.y from the newest pair (Nocedal & Wright eq. 7.20);
    // without one, a first step of at most 1 in the largest component.
    const double gamma = memory.empty()
                             ? 1 / std::max(1.0, largest)
                             : 1 / (memory.back().rho * dot(memory.back().y, memory.back().y));
    for (size_t i = 0; i < n; ++i) q[i] *= gamma;
    for (size_t k = 0; k < memory.size(); ++k) {
      const double beta = memory[k].rho * dot(memory[k].y, q);
      for (size_t i = 0; i < n; ++i) q[i] += memory[k].s[i] * (alpha[k] - beta);
    }
    for (size_t i = 0; i < n; ++i) d[i] = free_gradient[i] == 0 ? 0.0 : -q[i];
    if (dot(g, d) >= 0) {
      // The curvature pairs point uphill once bounds cut them: start afresh from steepest descent.
      memory.clear();
      for (size_t i = 0; i < n; ++i) d[i] = -free_gradient[i] / std::max(1.0, largest);
    }

    bool accepted = false, moved = false;
    double fn = fx;
    for (double t = 1; t > 1e-20; t *= 0.5) {
      moved = false;
      for (size_t i = 0; i < n; ++i) {
        xn[i] = std::clamp(x[i] + t * d[i], lo[i], hi[i]);
        step[i] = xn[i] - x[i];
        moved = moved || step[i] != 0;
      }
      if (!moved) break;
      fn = f(xn, gn);
      ++result.evaluations;
      if (std::isfinite(fn) && fn <= fx + 1e-4 * dot(g, step)) {
        accepted = true;
        break;
      }
    }
    if (!accepted) {
      if (memory.empty() || !moved) break;
      memory.clear();
      continue;
    }
    std::vector<double> y(n);
    for (size_t i = 0; i < n; ++i) y[i] = gn[i] - g[i];
    const double sy = dot(step, y);
    if (sy > 1e-12 * std::sqrt(dot(step, step) * dot(y, y))) {
      memory.push_back({step, std::move(y), 1 / sy});
      if (static_cast<int64_t>(memory.size()) > options.history) memory.pop_front();
    }
    const double decrease = fx - fn;
    x.swap(xn);
    g.swap(gn);
    fx = fn;
    if (decrease <= options.value_tolerance * std::max(1.0, std::abs(fx))) {
      ++result.iterations;
      break;
    }
  }
  result.value = fx;
  return result;
}

}  // namespace nabla::hpo
