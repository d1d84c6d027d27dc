// L-BFGS over a box (lo <= x <= hi) by projection: what the Gaussian process fits its
// hyperparameters with and what the GP sampler maximizes its acquisition with.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace nabla::hpo {

struct BoxLbfgsOptions {
  int64_t max_iterations = 100;
  int64_t history = 10;  // (s, y) pairs kept
  // Stops when every component of the projected gradient is below this...
  double gradient_tolerance = 1e-6;
  // ... or when a step lowers the value by less than this, relative to max(1, |f|).
  double value_tolerance = 1e-10;

  // A ValueError naming the first bad option and its value.
  void validate() const;
};

struct BoxLbfgsResult {
  std::vector<double> x;
  double value = 0;
  int64_t iterations = 0;
  int64_t evaluations = 0;
};

// f(x, gradient) returns the value at x and writes its gradient (same size as x). A non-finite
// value makes the line search step back; at x0 (clamped into the box first), it ends the run at
// once with that value.
using BoxObjective = std::function<double(const std::vector<double>& x, std::vector<double>& g)>;

BoxLbfgsResult minimize_box(const BoxObjective& f, std::vector<double> x0,
                            const std::vector<double>& lo, const std::vector<double>& hi,
                            const BoxLbfgsOptions& options = {});

}  // namespace nabla::hpo
