// Tuning log lambda two ways on the same unrolled objective: descending its hypergradient with
// nabla's Adam, and a log-spaced grid to compare against.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "unrolled.h"

namespace nabla::hypergradient {

// The outer optimizer is Adam on log lambda, its rate annealed to zero over the iterations by a
// cosine: Adam's normalized steps cross the flat region of small lambda, where the hypergradient
// is tiny, as fast as the steep one. beta1 defaults to 0 (no momentum): the outer objective is
// deterministic and one-dimensional, and momentum only made the steps overshoot the minimum and
// circle back (with Adam's usual 0.9 the demo's 20 steps ended further from the grid's best).
struct OuterOptions {
  double lr = 0.5;  // in log lambda: steps of about a factor e^0.5 = 1.65 in lambda at first
  double beta1 = 0;
  int64_t iterations = 20;
  double initial_log_lambda = -6.907755278982137;  // lambda = 1e-3
};

// One outer iteration: the point it started from and what the hypergradient said there.
struct OuterStep {
  int64_t iteration = 0;  // from 1
  double log_lambda = 0;
  double val_loss = 0;
  double d_log_lambda = 0;
};

struct TuningResult {
  std::vector<OuterStep> steps;
  double log_lambda = 0;  // after the last step
  double val_loss = 0;    // of the unrolled training at that log_lambda
};

// `iterations` annealed Adam steps on log lambda, each from the hypergradient of the
// unrolled objective; `on_step` (may be empty) sees each iteration as it ends.
TuningResult tune_weight_decay(const InnerProblem& problem, const OuterOptions& options,
                               const std::function<void(const OuterStep&)>& on_step = {});

struct GridPoint {
  double log_lambda = 0;
  double val_loss = 0;
};

// The validation loss at `points` values of lambda log-spaced from min_lambda to max_lambda, both
// included, each from the same unrolled training (nothing recorded).
std::vector<GridPoint> grid_search(const InnerProblem& problem, double min_lambda,
                                   double max_lambda, int64_t points);
// The grid's lowest validation loss.
const GridPoint& best(const std::vector<GridPoint>& grid);

}  // namespace nabla::hypergradient
