// examples/hypergradient: the hypergradient of the unrolled objective against central
// differences, and hypergradient descent on log lambda against a grid search on real data.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "core/creation.h"
#include "core/generator.h"
#include "core/parallel.h"
#include "fashion_splits.h"
#include "tuning.h"
#include "unrolled.h"

using namespace nabla;
using namespace nabla::hypergradient;

namespace {

double unrolled_at(const InnerProblem& problem, double log_lambda) {
  return unrolled_validation_loss(problem, scalar_tensor(log_lambda, {.dtype = kFloat64})).item();
}

// Random float64 features and labels: small enough that central differences are exact to many
// digits, with more features than training rows so that the training overfits as on real data.
InnerProblem random_problem() {
  manual_seed(7);
  const TensorOptions f64{.dtype = kFloat64};
  return {.train = {randn({12, 20}, f64), randint(0, 3, {12})},
          .val = {randn({30, 20}, f64), randint(0, 3, {30})},
          .classes = 3,
          .steps = 8,
          .lr = 0.3};
}

}  // namespace

// Each outer step, and the demo, trusts this derivative: reverse mode through T recorded steps
// must agree with differencing the unrolled loss itself. With h = 1e-5 the central difference's
// truncation error is about h^2 f''' ~ 1e-10 and its rounding error about 1e-16 / h ~ 1e-11; the
// two agreed to a relative 2e-9 or better at these points, so a relative tolerance of 1e-7 leaves
// a wide margin yet fails on any missing term: with the steps' gradients taken as constants
// (retain_graph without create_graph) the derivative is off by about 35%.
TEST_CASE("hypergradient: d(val loss)/d(log lambda) matches central differences in float64") {
  const InnerProblem problem = random_problem();
  const double h = 1e-5;
  for (double log_lambda : {-4.0, -1.0, 0.5}) {
    CAPTURE(log_lambda);
    const Hypergradient g = unrolled_hypergradient(problem, log_lambda);
    const double central =
        (unrolled_at(problem, log_lambda + h) - unrolled_at(problem, log_lambda - h)) / (2 * h);
    CHECK(g.val_loss == doctest::Approx(unrolled_at(problem, log_lambda)).epsilon(1e-12));
    CHECK(g.d_log_lambda == doctest::Approx(central).epsilon(1e-7));
    CHECK(std::abs(g.d_log_lambda) > 1e-6);  // a derivative worth checking
  }
}

// The recorded (differentiable) and the detached (grid) trainings are the same computation.
TEST_CASE("hypergradient: the recorded unrolled training gives the detached one's weights") {
  const InnerProblem problem = random_problem();
  const Weights plain = train(problem, scalar_tensor(-1.0, {.dtype = kFloat64}));
  const Weights recorded =
      train(problem, scalar_tensor(-1.0, {.dtype = kFloat64, .requires_grad = true}));
  CHECK(recorded.w.requires_grad());
  CHECK(!plain.w.grad().defined());
  const std::vector<double> a = plain.w.to_vector<double>(), b = recorded.w.to_vector<double>();
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-12));
}

// The demo's claim on real data, at half its unrolled length: 200 Fashion-MNIST training images,
// 1000 validation images from the training file, T = 100. Here the validation loss over lambda has
// an interior minimum (regularization matters: no decay is clearly worse), and the demo's 20
// annealed Adam steps on log lambda from lambda = 1e-3 end within 0.001 of the best of a 25-point
// grid from 1e-4 to 1 (neighbouring points a factor 1.47 apart), or below it. Measured: tuned
// lambda 0.112 with validation loss 0.68507, grid best lambda 0.1 with 0.68527, no decay 0.72322.
TEST_CASE("hypergradient: tuned weight decay is as good as the grid's best on Fashion-MNIST") {
  set_num_threads(1);
  const FashionSplits data =
      load_fashion_splits("", {.train = 200, .val = 1000, .test = 1}, 0, kFloat32);
  const InnerProblem problem{.train = data.train, .val = data.val, .steps = 100, .lr = 0.1};

  const std::vector<GridPoint> grid = grid_search(problem, 1e-4, 1, 25);
  const GridPoint& grid_best = best(grid);
  CHECK(grid_best.log_lambda > grid.front().log_lambda);
  CHECK(grid_best.log_lambda < grid.back().log_lambda);
  const double no_decay =
      unrolled_validation_loss(problem, scalar_tensor(-std::numeric_limits<double>::infinity()))
          .item();
  CHECK(no_decay > grid_best.val_loss + 0.02);

  const TuningResult tuned =
      tune_weight_decay(problem, {.iterations = 20, .initial_log_lambda = std::log(1e-3)});
  CAPTURE(std::exp(tuned.log_lambda));
  CAPTURE(std::exp(grid_best.log_lambda));
  CHECK(tuned.val_loss <= grid_best.val_loss + 0.001);
  // Descent: the hypergradient pointed the right way from the start.
  CHECK(tuned.val_loss < tuned.steps.front().val_loss);
}
