// Hypergradient descent on log lambda, and the grid to check it against (tuning.h).
#include "tuning.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "core/creation.h"
#include "core/error.h"
#include "optim/registry.h"
#include "optim/schedules.h"

namespace nabla::hypergradient {

TuningResult tune_weight_decay(const InnerProblem& problem, const OuterOptions& options,
                               const std::function<void(const OuterStep&)>& on_step) {
  NABLA_CHECK(options.iterations >= 0, ValueError,
              "tune_weight_decay: iterations must be >= 0, got ", options.iterations);
  // log lambda is the outer optimizer's one parameter; its gradient is the hypergradient.
  Tensor log_lambda = scalar_tensor(options.initial_log_lambda,
                                    {.dtype = problem.train.x.dtype(), .requires_grad = true});
  std::unique_ptr<optim::Optimizer> outer =
      optim::create("adam", {log_lambda}, {{"lr", options.lr}, {"beta1", options.beta1}});
  // Adam's normalized steps keep their size near the minimum and can hop from side to side of it
  // (with a constant rate they did at T = 100); annealing the rate to zero lets the last iterate
  // settle.
  optim::CosineAnnealingLR anneal(*outer, {.t_max = std::max<int64_t>(options.iterations, 1)});
  TuningResult result;
  for (int64_t iteration = 1; iteration <= options.iterations; ++iteration) {
    const Hypergradient h = unrolled_hypergradient(problem, log_lambda.item());
    log_lambda.set_grad(scalar_tensor(h.d_log_lambda, {.dtype = log_lambda.dtype()}));
    result.steps.push_back({iteration, log_lambda.item(), h.val_loss, h.d_log_lambda});
    if (on_step) on_step(result.steps.back());
    outer->step();
    anneal.step();
  }
  result.log_lambda = log_lambda.item();
  const Tensor at = scalar_tensor(result.log_lambda, {.dtype = log_lambda.dtype()});
  result.val_loss = unrolled_validation_loss(problem, at).item();
  return result;
}

std::vector<GridPoint> grid_search(const InnerProblem& problem, double min_lambda,
                                   double max_lambda, int64_t points) {
  NABLA_CHECK(min_lambda > 0 && max_lambda > min_lambda && points >= 2, ValueError,
              "grid_search: needs 0 < min_lambda < max_lambda and at least 2 points, got ",
              min_lambda, ", ", max_lambda, " and ", points);
  const double lo = std::log(min_lambda), hi = std::log(max_lambda);
  std::vector<GridPoint> grid;
  for (int64_t i = 0; i < points; ++i) {
    const double log_lambda = lo + (hi - lo) * double(i) / double(points - 1);
    const Tensor at = scalar_tensor(log_lambda, {.dtype = problem.train.x.dtype()});
    grid.push_back({log_lambda, unrolled_validation_loss(problem, at).item()});
  }
  return grid;
}

const GridPoint& best(const std::vector<GridPoint>& grid) {
  NABLA_CHECK(!grid.empty(), ValueError, "best: the grid is empty");
  return *std::min_element(grid.begin(), grid.end(), [](const GridPoint& a, const GridPoint& b) {
    return a.val_loss < b.val_loss;
  });
}

}  // namespace nabla::hypergradient
