// L-BFGS: Rosenbrock's function in 2 and 10 dimensions to a loss below 1e-8, the history limit,
// and the iteration and evaluation budgets of one step.
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "optim/registry.h"
#include "problems.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::testing;

namespace {

// sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2 over x [n], from (-1.2, 1, -1.2, 1, ...).
Tensor chained_rosenbrock(const Tensor& x) {
  int64_t n = x.size(0);
  Tensor head = slice(x, 0, 0, n - 1), tail = slice(x, 0, 1, n);
  return sum(100.0 * square(tail - square(head)) + square(1.0 - head));
}

Tensor rosenbrock_start(int64_t n) {
  std::vector<double> start;
  for (int64_t i = 0; i < n; ++i) start.push_back(i % 2 == 0 ? -1.2 : 1.0);
  return from_vector<double>(start).requires_grad_();
}

// Steps until the loss is below 1e-8 (at most 100); returns the steps taken.
int solve(optim::Optimizer& optimizer, const Tensor& x) {
  optim::Closure closure = [&] {
    Tensor loss = chained_rosenbrock(x);
    backward(loss);
    return loss;
  };
  int steps = 0;
  while (chained_rosenbrock(x).item() >= 1e-8 && steps < 100) {
    optimizer.step(closure);
    ++steps;
  }
  return steps;
}

}  // namespace

TEST_CASE("lbfgs: Rosenbrock in 2 and 10 dimensions to a loss below 1e-8") {
  // The fixed step (lr 0.2) from the standard start ends in the 10-D function's local minimum
  // near (-1, 1, ..., 1), where the loss is 3.99; the line search reaches the global one.
  for (auto [n, search] : {std::pair{2, "strong_wolfe"}, {10, "strong_wolfe"}, {2, "none"}}) {
    std::string line_search = search;
    CAPTURE(n);
    CAPTURE(line_search);
    Tensor x = rosenbrock_start(n);
    double lr = line_search == "none" ? 0.2 : 1.0;
    auto optimizer = optim::create("lbfgs", {x}, {{"line_search", line_search}, {"lr", lr}});
    int steps = solve(*optimizer, x);
    double loss = chained_rosenbrock(x).item();
    MESSAGE("lbfgs ", line_search, " lr ", lr, ": ", n, "-D Rosenbrock loss ", loss, " after ",
            steps, " steps of up to 20 iterations, ",
            optimizer->state("0")->scalars().at("evaluations"), " evaluations");
    CHECK(loss < 1e-8);
  }
}

TEST_CASE("lbfgs: keeps at most history_size curvature pairs") {
  Tensor x = rosenbrock_start(10);
  auto optimizer = optim::create(
      "lbfgs", {x}, {{"line_search", "strong_wolfe"}, {"history_size", 3}, {"max_eval", 1000}});
  optim::Closure closure = [&] {
    Tensor loss = chained_rosenbrock(x);
    backward(loss);
    return loss;
  };
  optimizer->step(closure);
  const optim::State* state = optimizer->state("0");
  CHECK(state->scalars().at("iterations") == 20);
  CHECK(state->scalars().at("history") == 3);
  CHECK(state->find("s2").defined());
  CHECK_FALSE(state->find("s3").defined());
  CHECK(state->scalars().count("rho3") == 0);
}

TEST_CASE("lbfgs: one step runs at most max_iter iterations and max_eval evaluations") {
  Tensor x = rosenbrock_start(2);
  auto optimizer = optim::create("lbfgs", {x}, {{"max_iter", 7}, {"lr", 0.1}});
  optim::StepResult result = optimizer->step([&] {
    Tensor loss = chained_rosenbrock(x);
    backward(loss);
    return loss;
  });
  // Without a line search each iteration but the last evaluates once more.
  CHECK(result.closure_calls == 7);
  CHECK(optimizer->state("0")->scalars().at("iterations") == 7);

  Tensor y = rosenbrock_start(2);
  auto searching = optim::create("lbfgs", {y}, {{"line_search", "strong_wolfe"}, {"max_eval", 4}});
  optim::StepResult limited = searching->step([&] {
    Tensor loss = chained_rosenbrock(y);
    backward(loss);
    return loss;
  });
  // The budget is checked after each iteration's line search, as in PyTorch.
  CHECK(limited.closure_calls >= 4);
  CHECK(limited.closure_calls < 4 + 25);
  CHECK(limited.loss.item() == doctest::Approx(24.2));
}
