// Newton's method: one step on a strictly convex quadratic, quadratic convergence on logistic
// regression in float64, damping on an indefinite Hessian, and the dense-Hessian size limit.
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "fixtures.h"
#include "optim/registry.h"
#include "problems.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::testing;

namespace {

optim::Closure closure_of(const std::function<Tensor()>& loss_fn) {
  return [loss_fn] {
    Tensor loss = loss_fn();
    backward(loss);
    return loss;
  };
}

// A fixed LCG in [-1, 1), so the data never depend on nabla's generator.
std::vector<double> numbers(size_t count, uint64_t seed) {
  std::vector<double> out;
  for (size_t i = 0; i < count; ++i) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    out.push_back(static_cast<double>(seed >> 11) / 9007199254740992.0 * 2 - 1);
  }
  return out;
}

}  // namespace

TEST_CASE("newton: the minimum of a strictly convex quadratic in one step") {
  // f = 1/2 x^T A x - b^T x with A = M M^T + I [5, 5]; the minimum solves A x = b.
  const int64_t n = 5;
  std::vector<double> m = numbers(n * n, 7), b = numbers(n, 8);
  Tensor mt = from_vector<double>(m, {n, n});
  Tensor a = matmul(mt, transpose(mt, 0, 1)) + eye(n, {.dtype = kFloat64});
  Tensor bt = from_vector<double>(b);
  Tensor x = zeros({n}, {.dtype = kFloat64}).requires_grad_();
  auto loss = [&] { return 0.5 * sum(x * matmul(a, x)) - sum(bt * x); };
  auto optimizer = optim::create("newton", {x});
  optimizer->step(closure_of(loss));
  Tensor gradient = matmul(a, detach(x)) - bt;
  MESSAGE("gradient norm after one step: ", norm(gradient).item());
  CHECK(norm(gradient).item() <= 1e-12 * norm(bt).item());
  CHECK(optimizer->state("0")->scalars().at("damping") == 0.0);
}

TEST_CASE("newton: logistic regression to 1e-10 gradient norm in a few steps (float64)") {
  // 200 points in 3-D with labels from a noisy linear rule, so the minimum is finite.
  const int64_t count = 200;
  std::vector<double> xs = numbers(count * 3, 11), noise = numbers(count, 12), ys;
  for (int64_t i = 0; i < count; ++i) {
    double score = 1.5 * xs[3 * i] - 2 * xs[3 * i + 1] + 0.5 * xs[3 * i + 2] + 0.3;
    ys.push_back(score + 1.5 * noise[i] > 0 ? 1.0 : -1.0);
  }
  Tensor data = from_vector<double>(xs, {count, 3}), labels = from_vector<double>(ys);
  optim::NamedTensors p = {{"w", zeros({3}, {.dtype = kFloat64}).requires_grad_()},
                           {"b", zeros({1}, {.dtype = kFloat64}).requires_grad_()}};
  auto loss = [&] { return mean(log1p(exp(-labels * (matmul(data, p[0].second) + p[1].second)))); };
  auto optimizer = optim::create("newton", p);
  double gradient_norm = 1;
  int steps = 0;
  while (gradient_norm > 1e-10 && steps < 20) {
    optimizer->step(closure_of(loss));
    ++steps;
    zero_grad({p[0].second, p[1].second});
    backward(loss());
    gradient_norm = std::hypot(norm(p[0].second.grad()).item(), norm(p[1].second.grad()).item());
  }
  MESSAGE("logistic regression: gradient norm ", gradient_norm, " after ", steps, " steps");
  CHECK(gradient_norm <= 1e-10);
  CHECK(steps <= 8);
}

TEST_CASE("newton: damping keeps descending through an indefinite Hessian") {
  // f = x^2 - y^2 + y^4 / 2 starts at (1, 0.1), where the Hessian has eigenvalue -2 + 0.06 < 0;
  // the minima are (0, +-1) with f = -1/2.
  Tensor xy = from_vector<double>({1.0, 0.1}).requires_grad_();
  auto loss = [&] {
    Tensor x = select(xy, 0, 0), y = select(xy, 0, 1);
    return square(x) - square(y) + 0.5 * pow(y, 4.0);
  };
  auto optimizer = optim::create("newton", {xy});
  double previous = loss().item();
  for (int i = 0; i < 30; ++i) {
    optimizer->step(closure_of(loss));
    double now = loss().item();
    CHECK(now <= previous);
    previous = now;
  }
  check_values(values(detach(xy)), {0.0, 1.0}, 1e-9, 1e-9, "(x, y)");
  CHECK(previous == doctest::Approx(-0.5).epsilon(1e-12));
}

TEST_CASE("newton: Rosenbrock's minimum to 1e-20 in loss") {
  Problem problem = rosenbrock();
  optim::NamedTensors p = problem.start();
  auto optimizer = optim::create("newton", p);
  int steps = 0;
  while (problem.loss(p).item() > 1e-20 && steps < 100) {
    optimizer->step(closure_of([&] { return problem.loss(p); }));
    ++steps;
  }
  MESSAGE("rosenbrock: loss ", problem.loss(p).item(), " after ", steps, " steps");
  CHECK(problem.loss(p).item() <= 1e-20);
}

TEST_CASE("newton: too many parameters for a dense Hessian is an error naming the limit") {
  Tensor big = zeros({2001}, {.dtype = kFloat64}).requires_grad_();
  auto optimizer = optim::create("newton", {big});
  std::string message =
      error_of([&] { optimizer->step(closure_of([&] { return sum(square(big)); })); });
  CHECK(message.find("newton: the parameters have 2001 elements, more than max_params = 2000") ==
        0);
  CHECK(values(big) == std::vector<double>(2001, 0.0));

  // The limit is an option.
  Tensor six = zeros({2, 3}, {.dtype = kFloat64}).requires_grad_();
  auto six_loss = closure_of([&] { return sum(square(six - 0.5)); });
  CHECK(error_of([&] {
          optim::create("newton", {six}, {{"max_params", 5}})->step(six_loss);
        }).find("more than max_params = 5") != std::string::npos);
  optim::create("newton", {six}, {{"max_params", 6}})->step(six_loss);
  check_close(detach(six), std::vector<double>(6, 0.5), 1e-12);
}
