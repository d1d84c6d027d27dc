// Gradient clipping by norm and by value, early stopping, and the exponential moving average.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "core/creation.h"
#include "optim/clip.h"
#include "optim/early_stopping.h"
#include "optim/ema.h"
#include "optim/state_dict.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::testing;

namespace {

// Parameters whose gradients are exactly `grads`.
std::vector<Tensor> with_gradients(const std::vector<std::vector<double>>& grads) {
  std::vector<Tensor> params;
  for (const auto& g : grads) {
    Tensor p = zeros({static_cast<int64_t>(g.size())}, {.dtype = kFloat64}).requires_grad_();
    p.set_grad(from_vector<double>(g));
    params.push_back(p);
  }
  return params;
}

}  // namespace

TEST_CASE("clip_grad_norm: scales all gradients to the global norm, returns the norm before") {
  std::vector<Tensor> params = with_gradients({{3, 0}, {0, 4, 0}});    // global norm 5
  params.push_back(zeros({2}, {.dtype = kFloat64}).requires_grad_());  // no gradient: skipped
  CHECK(optim::clip_grad_norm(params, 1.0) == doctest::Approx(5.0));
  double scale = 1.0 / (5.0 + 1e-6);
  check_close(params[0].grad(), {3 * scale, 0}, 1e-12);
  check_close(params[1].grad(), {0, 4 * scale, 0}, 1e-12);
  CHECK(optim::clip_grad_norm(params, 10.0) == doctest::Approx(1.0).epsilon(1e-6));
  check_close(params[0].grad(), {3 * scale, 0}, 1e-12);  // below max_norm: untouched

  std::vector<Tensor> inf_norm = with_gradients({{1, -6}, {2}});
  CHECK(optim::clip_grad_norm(inf_norm, 3.0, INFINITY) == 6.0);
  check_close(inf_norm[0].grad(), {1 * 3 / (6 + 1e-6), -6 * 3 / (6 + 1e-6)}, 1e-12);

  std::vector<Tensor> one_norm = with_gradients({{1, -2}, {3}});
  CHECK(optim::clip_grad_norm(one_norm, 100.0, 1.0) == doctest::Approx(6.0));

  std::vector<Tensor> bad = with_gradients({{1, std::numeric_limits<double>::quiet_NaN()}});
  CHECK_THROWS_AS(optim::clip_grad_norm(bad, 1.0, 2.0, /*error_if_nonfinite=*/true), ValueError);
  CHECK(std::isnan(optim::clip_grad_norm(bad, 1.0)));
}

TEST_CASE("clip_grad_value: clamps each element and returns the norm before") {
  std::vector<Tensor> params = with_gradients({{3, -0.5}, {-4}});
  optim::NamedTensors named = {{"a", params[0]}, {"b", params[1]}};
  CHECK(optim::clip_grad_value(named, 1.0) == doctest::Approx(std::sqrt(9 + 0.25 + 16)));
  check_close(params[0].grad(), {1, -0.5}, 1e-12);
  check_close(params[1].grad(), {-1}, 1e-12);
}

TEST_CASE("EarlyStopping: patience, min_delta, and the best weights restored") {
  Tensor w = from_vector<double>({0.0}).requires_grad_();
  optim::NamedTensors params = {{"w", w}};
  optim::EarlyStopping stopper({.patience = 2, .min_delta = 0.01});
  const std::vector<double> losses = {1.0, 0.8, 0.795, 0.7, 0.71, 0.695, 0.75};
  std::vector<bool> stops;
  for (size_t epoch = 0; epoch < losses.size(); ++epoch) {
    {
      NoGradGuard no_grad;
      fill_(w, static_cast<double>(epoch));
    }
    stops.push_back(stopper.step(losses[epoch], params));
  }
  // 0.795 and 0.695 are within min_delta of the best, so they do not count as improvements.
  CHECK(stops == std::vector<bool>{false, false, false, false, false, true, true});
  CHECK(stopper.best() == 0.7);
  CHECK(stopper.best_step() == 4);
  CHECK(stopper.restore_best(params));
  CHECK(values(w) == std::vector<double>{3.0});

  optim::StateDict saved = stopper.state_dict();
  optim::EarlyStopping resumed({.patience = 2, .min_delta = 0.01});
  resumed.load_state_dict(saved);
  CHECK(resumed.should_stop());
  CHECK(resumed.best() == 0.7);
  {
    NoGradGuard no_grad;
    fill_(w, -1.0);
  }
  CHECK(resumed.restore_best(params));
  CHECK(values(w) == std::vector<double>{3.0});

  optim::EarlyStopping accuracy({.patience = 1, .mode = "max", .restore_best_weights = false});
  CHECK_FALSE(accuracy.step(0.5));
  CHECK_FALSE(accuracy.step(0.6));
  CHECK(accuracy.step(0.55));
  CHECK_FALSE(accuracy.restore_best(params));
  CHECK_THROWS_AS(optim::EarlyStopping({.mode = "lowest"}), ValueError);
}

TEST_CASE("ExponentialMovingAverage: the average, its warmup, apply and restore, state") {
  Tensor w = from_vector<double>({0.0, 10.0}).requires_grad_();
  Tensor count = from_vector<int64_t>({0});
  optim::ExponentialMovingAverage ema({{"w", w}, {"count", count}}, {.decay = 0.9});
  for (int t = 1; t <= 3; ++t) {
    NoGradGuard no_grad;
    fill_(w, static_cast<double>(t));
    fill_(count, t);
    ema.update();
  }
  // average = 0.9^3 * w0 + sum_t 0.1 * 0.9^(3 - t) * t, elementwise from w0 = (0, 10)
  double tail = 0.1 * (0.81 * 1 + 0.9 * 2 + 3);
  check_close(ema.averages()[0].second, {tail, 0.729 * 10 + tail}, 1e-12);
  CHECK(values(ema.averages()[1].second) == std::vector<double>{3});  // integers are copied

  ema.apply();
  check_close(w, {tail, 7.29 + tail}, 1e-12);
  CHECK_THROWS_AS(ema.update(), ValueError);
  ema.restore();
  check_close(w, {3, 3}, 1e-12);

  optim::ExponentialMovingAverage copy({{"w", w}, {"count", count}}, {.decay = 0.9});
  copy.load_state_dict(ema.state_dict());
  CHECK(copy.updates() == 3);
  CHECK(values(copy.averages()[0].second) == values(ema.averages()[0].second));

  optim::ExponentialMovingAverage warm({{"w", w}}, {.decay = 0.999, .warmup = true});
  CHECK(warm.decay() == doctest::Approx(2.0 / 11.0));  // (1 + n) / (10 + n) for n = 1
  warm.update();
  CHECK(warm.decay() == doctest::Approx(3.0 / 12.0));
}
