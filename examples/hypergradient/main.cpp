// hypergradient: tunes the weight decay of a linear softmax classifier on Fashion-MNIST by
// differentiating the validation loss through T unrolled steps of its training, then checks the
// result against a grid search over the same unrolled training, and tests both once at the end.
//   hypergradient --steps 200 --outer 20
// docs/hpo.md ("Gradient-based tuning") explains the method and shows a run.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <string>

#include "core/creation.h"
#include "core/error.h"
#include "core/parallel.h"
#include "fashion_splits.h"
#include "tuning.h"
#include "unrolled.h"

using namespace nabla;
using namespace nabla::hypergradient;

namespace {

struct Config {
  std::string data_dir;
  SplitSizes sizes;
  int64_t steps = 200;
  double inner_lr = 0.1;
  OuterOptions outer;
  double initial_lambda = 1e-3;
  double grid_min = 1e-4;
  double grid_max = 1;
  int64_t grid_points = 25;
  uint64_t seed = 0;
  // The tensors are small ([200, 784] at most), so a second thread has little to share; when
  // another program kept the cores busy, waiting for it made the tuning over ten times slower.
  int threads = 1;
};

void add_flags(CLI::App& app, Config& c) {
  app.option_defaults()->always_capture_default();
  app.add_option("--data", c.data_dir,
                 "the folder holding fashion-mnist/ (default: the usual search, then "
                 "/usr/share/datasets/fashion-mnist)");
  app.add_option("--train-images", c.sizes.train, "training images, all in every inner step");
  app.add_option("--val-images", c.sizes.val,
                 "validation images, drawn from the training file apart from the training ones");
  app.add_option("--test-images", c.sizes.test, "test images, used once at the end");
  app.add_option("--steps", c.steps, "T: the unrolled inner gradient steps");
  app.add_option("--inner-lr", c.inner_lr, "learning rate of the inner steps");
  app.add_option("--outer", c.outer.iterations, "outer iterations on log lambda");
  app.add_option("--lr", c.outer.lr,
                 "learning rate of the outer Adam steps on log lambda (annealed to 0 by a cosine)");
  app.add_option("--beta1", c.outer.beta1, "the outer Adam's momentum (0: none)");
  app.add_option("--lambda", c.initial_lambda, "the weight decay the outer steps start from");
  app.add_option("--grid-min", c.grid_min, "the grid's smallest lambda");
  app.add_option("--grid-max", c.grid_max, "the grid's largest lambda");
  app.add_option("--grid-points", c.grid_points, "log-spaced values of lambda in the grid");
  app.add_option("--seed", c.seed, "draws the training and validation images");
  app.add_option("--threads", c.threads, "compute threads (0: every core)");
}

void validate(const Config& c) {
  auto require = [](bool ok, const char* flag, const auto& value, const char* rule) {
    NABLA_CHECK(ok, ValueError, flag, ": ", value, " is not valid; it must be ", rule);
  };
  require(c.sizes.train > 0, "--train-images", c.sizes.train, "positive");
  require(c.sizes.val > 0, "--val-images", c.sizes.val, "positive");
  require(c.sizes.test > 0, "--test-images", c.sizes.test, "positive");
  require(c.steps > 0, "--steps", c.steps, "positive");
  require(c.inner_lr > 0, "--inner-lr", c.inner_lr, "positive");
  require(c.outer.iterations >= 0, "--outer", c.outer.iterations, "at least 0");
  require(c.outer.lr > 0, "--lr", c.outer.lr, "positive");
  require(c.outer.beta1 >= 0 && c.outer.beta1 < 1, "--beta1", c.outer.beta1, "in [0, 1)");
  require(c.initial_lambda > 0, "--lambda", c.initial_lambda, "positive");
  require(c.grid_min > 0, "--grid-min", c.grid_min, "positive");
  require(c.grid_max > c.grid_min, "--grid-max", c.grid_max, "above --grid-min");
  require(c.grid_points >= 2, "--grid-points", c.grid_points, "at least 2");
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The weights trained at log_lambda, judged on the test images.
void print_test(const char* label, const InnerProblem& problem, double log_lambda,
                const Split& test) {
  Weights weights = train(problem, scalar_tensor(log_lambda, {.dtype = test.x.dtype()}));
  std::printf(
      "  %-15s lambda %-10.4g validation loss %.4f   test loss %.4f   test accuracy %.2f%%\n",
      label, std::exp(log_lambda), cross_entropy(weights, problem.val),
      cross_entropy(weights, test), accuracy(weights, test));
}

int run(const Config& c) {
  validate(c);
  if (c.threads > 0) set_num_threads(c.threads);
  FashionSplits data = load_fashion_splits(c.data_dir, c.sizes, c.seed, kFloat32);
  std::cout << data.summary << "\n";
  const InnerProblem problem{
      .train = data.train, .val = data.val, .classes = 10, .steps = c.steps, .lr = c.inner_lr};
  std::printf(
      "inner: linear softmax (784 -> 10), %ld full-batch gradient steps at lr %g, L2 "
      "weight decay lambda on the weights\n",
      long(c.steps), c.inner_lr);

  OuterOptions outer = c.outer;
  outer.initial_log_lambda = std::log(c.initial_lambda);
  std::printf(
      "outer: Adam (lr %g annealed to 0, beta1 %g) on log lambda from lambda %g, %ld "
      "iterations\n",
      outer.lr, outer.beta1, c.initial_lambda, long(outer.iterations));
  std::printf("%5s  %-10s  %-9s  %s\n", "iter", "lambda", "val loss", "d(val loss)/d(log lambda)");
  auto start = std::chrono::steady_clock::now();
  const TuningResult tuned = tune_weight_decay(problem, outer, [](const OuterStep& s) {
    std::printf("%5ld  %-10.4g  %-9.4f  %+.5f\n", long(s.iteration), std::exp(s.log_lambda),
                s.val_loss, s.d_log_lambda);
    std::fflush(stdout);
  });
  std::printf("tuned: lambda %.4g, validation loss %.4f (%.1f s)\n", std::exp(tuned.log_lambda),
              tuned.val_loss, seconds_since(start));

  start = std::chrono::steady_clock::now();
  const std::vector<GridPoint> grid = grid_search(problem, c.grid_min, c.grid_max, c.grid_points);
  std::printf("grid: %ld values of lambda from %g to %g\n", long(c.grid_points), c.grid_min,
              c.grid_max);
  for (const GridPoint& p : grid)
    std::printf("  lambda %-10.4g  val loss %.4f\n", std::exp(p.log_lambda), p.val_loss);
  const GridPoint& grid_best = best(grid);
  std::printf("grid best: lambda %.4g, validation loss %.4f (%.1f s)\n",
              std::exp(grid_best.log_lambda), grid_best.val_loss, seconds_since(start));

  std::printf("tuned minus grid best validation loss: %+.4f\n",
              tuned.val_loss - grid_best.val_loss);
  std::printf("on the %ld test images, once:\n", long(data.test.y.size(0)));
  print_test("no weight decay", problem, -std::numeric_limits<double>::infinity(), data.test);
  print_test("tuned", problem, tuned.log_lambda, data.test);
  print_test("grid best", problem, grid_best.log_lambda, data.test);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Config config;
  CLI::App app{
      "hypergradient: tunes L2 weight decay on Fashion-MNIST by differentiating the validation "
      "loss through unrolled gradient steps, and compares it with a grid search"};
  add_flags(app, config);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "hypergradient: " << e.what() << " (see --help)\n";
    return 2;
  }
  try {
    return run(config);
  } catch (const Error& e) {
    std::cerr << "hypergradient: " << e.what() << "\n";
    return 2;
  }
}
