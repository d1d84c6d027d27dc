// AdaHessian and the Hutchinson estimator, in float64: the estimate of a quadratic's Hessian
// diagonal converges to the true diagonal over many draws; a step on a diagonal quadratic is the
// damped Newton step; a convolution kernel's estimate is averaged over its window; the draws
// depend on the seed option only.
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "core/creation.h"
#include "core/generator.h"
#include "optim/curvature.h"
#include "optim/hutchinson.h"
#include "optim/registry.h"
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

}  // namespace

TEST_CASE("hutchinson: the estimate of a quadratic's Hessian diagonal converges to it") {
  // f = 1/2 x^T A x with a dense symmetric A: each draw z * Az = diag(A) + sum_{j != i} A_ij z_i
  // z_j.
  const int64_t n = 5;
  const std::vector<double> entries = {4.0, 1.5,  -0.8, 0.3, 0.0, 1.5,  2.0, 0.7,  -1.1,
                                       0.4, -0.8, 0.7,  3.0, 0.9, 0.6,  0.3, -1.1, 0.9,
                                       1.0, -0.5, 0.0,  0.4, 0.6, -0.5, 2.5};
  Tensor a = from_vector<double>(entries, {n, n});
  Tensor x = from_vector<double>({0.3, -0.2, 0.5, 1.0, -0.7}).requires_grad_();
  optim::DifferentiableGradients g = optim::differentiable_gradients(
      {{"x", x}}, closure_of([&] { return 0.5 * sum(x * matmul(a, x)); }));
  auto hessian = [&](const optim::ParamVector& v) { return optim::hessian_vector_product(g, v); };

  const int draws = 20000;
  std::vector<double> mean(n, 0.0);
  for (int k = 0; k < draws; ++k) {
    optim::ParamVector z = {optim::rademacher(x, 3, "x", static_cast<uint64_t>(k))};
    std::vector<double> estimate = values(optim::hutchinson_diagonal(hessian, z)[0]);
    for (int64_t i = 0; i < n; ++i) mean[i] += estimate[i] / draws;
  }
  for (int64_t i = 0; i < n; ++i) {
    // The estimate's standard deviation is sqrt(sum_{j != i} A_ij^2); allow 5 standard errors.
    double spread = 0;
    for (int64_t j = 0; j < n; ++j)
      if (j != i) spread += entries[i * n + j] * entries[i * n + j];
    const double standard_error = std::sqrt(spread / draws);
    const double error = std::fabs(mean[i] - entries[i * n + i]);
    MESSAGE("diagonal ", i, ": ", entries[i * n + i], ", mean of ", draws, " estimates ", mean[i],
            " (", error / standard_error, " standard errors)");
    CHECK(error < 5 * standard_error);
  }
}

TEST_CASE("hutchinson: Rademacher draws are +-1, balanced, and fixed by seed, stream and draw") {
  Tensor like = zeros({1000}, {.dtype = kFloat64});
  std::vector<double> z = values(optim::rademacher(like, 1, "w", 0));
  double total = 0;
  for (double v : z) {
    CHECK(std::fabs(v) == 1.0);
    total += v;
  }
  CHECK(std::fabs(total) < 100);  // 3 standard deviations of a sum of 1000 signs
  manual_seed(99);
  (void)randn({10});  // the default generator's draws change nothing here
  CHECK(values(optim::rademacher(like, 1, "w", 0)) == z);
  CHECK(values(optim::rademacher(like, 1, "w", 1)) != z);
  CHECK(values(optim::rademacher(like, 1, "b", 0)) != z);
  CHECK(values(optim::rademacher(like, 2, "w", 0)) != z);
}

TEST_CASE("adahessian: on a diagonal quadratic a step is the damped Newton step") {
  // f = 1/2 sum d_i x_i^2: Hz = d z, so z * Hz = d exactly. With beta1 = beta2 = 0 and eps = 0,
  // the step is lr * g / |d| = lr * x, so x shrinks by (1 - lr) whatever the curvature.
  Tensor d = from_vector<double>({0.5, 2.0, 10.0, 100.0});
  Tensor x = from_vector<double>({1.0, -2.0, 3.0, -4.0}).requires_grad_();
  auto optimizer = optim::create("adahessian", {x},
                                 {{"lr", 0.25}, {"beta1", 0.0}, {"beta2", 0.0}, {"eps", 0.0}});
  for (int i = 0; i < 3; ++i) optimizer->step(closure_of([&] { return 0.5 * sum(d * x * x); }));
  check_close(detach(x), {0.421875, -0.84375, 1.265625, -1.6875}, 1e-12);  // 0.75^3 x0
}

TEST_CASE("adahessian: a convolution kernel's estimate is averaged over its window") {
  // f = 1/2 sum c w^2 over a conv weight [2, 3, 3, 3] (a diagonal Hessian c) and a bias [2]. The
  // first step (bias-corrected moments: m = g, v = D^2) is -lr g / (D + eps), D being c averaged
  // over each 3x3 window for the kernel and c itself for the bias.
  manual_seed(5);
  Tensor c_weight = rand({2, 3, 3, 3}, {.dtype = kFloat64}) + 0.5;
  Tensor c_bias = from_vector<double>({2.0, 3.0});
  Tensor weight = randn({2, 3, 3, 3}, {.dtype = kFloat64}).requires_grad_();
  Tensor bias = from_vector<double>({1.0, -1.0}).requires_grad_();
  Tensor weight0 = clone(detach(weight));
  const double lr = 0.1, eps = 1e-4;
  auto optimizer =
      optim::create("adahessian", {{"weight", weight}, {"bias", bias}}, {{"lr", lr}, {"eps", eps}});
  optimizer->step(closure_of(
      [&] { return 0.5 * (sum(c_weight * weight * weight) + sum(c_bias * bias * bias)); }));

  Tensor window_mean = mean(c_weight, {2, 3}, /*keepdim=*/true);  // [2, 3, 1, 1]
  Tensor expected = weight0 - lr * (c_weight * weight0) / (window_mean + eps);
  std::vector<double> got = values(detach(weight)), want = values(expected);
  double largest = 0;
  for (size_t i = 0; i < got.size(); ++i) largest = std::max(largest, std::fabs(got[i] - want[i]));
  MESSAGE("largest difference from the window-averaged step: ", largest);
  CHECK(largest < 1e-12);
  check_close(detach(bias), {1.0 - lr * 2.0 / (2.0 + eps), -1.0 + lr * 3.0 / (3.0 + eps)}, 1e-12);
  // The averaging itself: every tap of a window holds the window's mean.
  Tensor averaged = optim::spatial_average(c_weight);
  CHECK(values(averaged) == values(contiguous(expand(window_mean, {2, 3, 3, 3}))));
  CHECK(values(optim::spatial_average(c_bias)) == values(c_bias));
}

TEST_CASE("adahessian: the same seed gives the same run, another seed another") {
  auto run = [](int64_t seed) {
    Tensor a = from_vector<double>({3.0, 1.0, 0.5, 1.0, 2.0, -0.4, 0.5, -0.4, 1.5}, {3, 3});
    Tensor x = from_vector<double>({1.0, 1.0, -1.0}).requires_grad_();
    auto optimizer = optim::create("adahessian", {x}, {{"lr", 0.1}, {"seed", seed}});
    for (int i = 0; i < 5; ++i) {
      (void)randn({7});  // draws from the default generator in between change nothing
      optimizer->step(closure_of([&] { return 0.5 * sum(x * matmul(a, x)); }));
    }
    return values(detach(x));
  };
  CHECK(run(7) == run(7));
  CHECK(run(7) != run(8));
}
