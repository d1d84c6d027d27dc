// Observers: ranges on known data, the moving average's formula, the histogram's clipping search
// against min-max by quantization MSE, percentiles, per-channel reduction, state and the factory.
#include <algorithm>
#include <cmath>
#include <vector>

#include "autograd/ops.h"
#include "core/creation.h"
#include "core/generator.h"
#include "quant/histogram_observer.h"
#include "quant/minmax_observer.h"
#include "quant/moving_average_observer.h"
#include "quant/observer_factory.h"
#include "quant/percentile_observer.h"
#include "quant_testing.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::quant;
using nabla::testing::check_close;
using nabla::testing::error_of;
using nabla::testing::values;
using namespace nabla::quant_testing;

namespace {

// The mean squared error of fake quantizing x with p, computed on the tensors themselves.
double quantization_mse(const Tensor& x, const QParams& p) {
  std::vector<double> a = values(x), b = values(dequantize(quantize(x, p), p));
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += (a[i] - b[i]) * (a[i] - b[i]);
  return sum / a.size();
}
}  // namespace

TEST_CASE("MinMaxObserver: running extremes over batches, then PyTorch's qparams") {
  MinMaxObserver obs({.dtype = QDType::uint8});
  CHECK_FALSE(obs.has_observed());
  CHECK(error_of([&] { obs.qparams(); }) ==
        "MinMaxObserver::qparams: no data observed yet (run calibration batches through it "
        "first)");
  obs.observe(f32({0.5f, 2, -1}));
  obs.observe(f32({3, 0}, {1, 2}));
  auto [lo, hi] = obs.range();
  check_close(lo, {-1});
  check_close(hi, {3});
  QParams p = obs.qparams();
  CHECK(p.scale.item<float>() == doctest::Approx(4.0 / 255).epsilon(1e-7));
  CHECK(p.zero_point.item<int64_t>() == 64);
  // forward passes x through unchanged and observes it, recording no gradient history.
  Tensor x = f32({-5, 1});
  x.requires_grad_();
  Tensor y = obs(x);
  CHECK(y.is_same(x));
  check_close(obs.range().first, {-5});
  CHECK_FALSE(obs.range().first.requires_grad());
  obs.reset();
  CHECK_FALSE(obs.has_observed());
  CHECK(std::isinf(obs.range().first.item<double>()));
}

TEST_CASE("MinMaxObserver: per-channel reduces over every dim but the axis") {
  // x: [2, 3, 2] with x[n, c, k] = 10 c + 3 n - k.
  std::vector<float> v;
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 3; ++c)
      for (int k = 0; k < 2; ++k) v.push_back(10.0f * c + 3 * n - k);
  Tensor x = f32(v, {2, 3, 2});
  MinMaxObserver by_c({.channel_axis = 1});
  by_c.observe(x);
  check_close(by_c.range().first, {-1, 9, 19});
  check_close(by_c.range().second, {3, 13, 23});
  CHECK(by_c.channels() == 3);
  MinMaxObserver by_last({.channel_axis = -1});
  by_last.observe(x);
  check_close(by_last.range().first, {0, -1});
  check_close(by_last.range().second, {23, 22});
  MinMaxObserver by_first({.channel_axis = 0});
  by_first.observe(x);
  check_close(by_first.range().first, {-1, 2});
  check_close(by_first.range().second, {20, 23});
  QParams p = by_first.qparams();
  CHECK(p.scale.shape() == Shape{2});
  check_close(p.scale, {21.0 / 255, 23.0 / 255}, 1e-6);
  CHECK(error_of([&] {
          by_c.observe(zeros({2, 4}));
        }) ==
        "MinMaxObserver::observe: tensor [2, 4] has 4 channels along axis 1 but the observer has "
        "seen 3");
  CHECK(error_of([&] { by_c.observe(zeros({4})); }) ==
        "MinMaxObserver::observe: channel axis 1 is out of range for a 1-d tensor (expected -1 "
        "to 0)");
  CHECK(error_of([&] {
          by_c.observe(zeros({2, 3}, {.dtype = kInt64}));
        }) == "MinMaxObserver::observe: observes float32 or float64 tensors, got int64");
}

TEST_CASE("MovingAverageMinMaxObserver: the first batch sets, later ones move by c") {
  MovingAverageMinMaxObserver obs({}, 0.25);
  obs.observe(f32({-2, 4}));
  check_close(obs.range().first, {-2});
  check_close(obs.range().second, {4});
  // min = -2 + 0.25 (-6 + 2) = -3, max = 4 + 0.25 (0 - 4) = 3.
  obs.observe(f32({-6, 0}));
  check_close(obs.range().first, {-3});
  check_close(obs.range().second, {3});
  // min = -3 + 0.25 (1 + 3) = -2, max = 3 + 0.25 (11 - 3) = 5.
  obs.observe(f32({1, 11}));
  check_close(obs.range().first, {-2});
  check_close(obs.range().second, {5});

  // PyTorch's default c = 0.01, per channel along axis 0.
  MovingAverageMinMaxObserver per_channel({.channel_axis = 0});
  CHECK(per_channel.averaging_constant() == 0.01);
  per_channel.observe(f32({0, 1, 2, 5}, {2, 2}));
  per_channel.observe(f32({-100, 0, 0, 105}, {2, 2}));
  check_close(per_channel.range().first, {0 + 0.01 * -100, 2 + 0.01 * (0 - 2)});
  check_close(per_channel.range().second, {1 + 0.01 * (0 - 1), 5 + 0.01 * (105 - 5)});
  CHECK(error_of([] { MovingAverageMinMaxObserver bad({}, 0); }) ==
        "MovingAverageMinMaxObserver: averaging_constant must be in (0, 1], got 0");
}

TEST_CASE("HistogramObserver: with outliers its range has a lower quantization MSE than min-max") {
  // 20000 standard normal values and 10 outliers at +-(40 ... 49), int4 affine: min-max spreads
  // the 16 levels over [-49, 49], a step of 6.5 that rounds most of the bulk to 0.
  manual_seed(11);
  Tensor bulk = randn({20000});
  std::vector<float> outliers;
  for (int i = 0; i < 10; ++i) outliers.push_back((i % 2 ? -1.0f : 1.0f) * (40 + i));
  Tensor x = cat({bulk, f32(outliers)});
  QScheme scheme{.dtype = QDType::int4};

  MinMaxObserver min_max(scheme);
  HistogramObserver hist(scheme, 2048);
  // Two batches, the second wider than the first, so the histogram widens once.
  min_max.observe(bulk);
  hist.observe(bulk);
  min_max.observe(x);
  hist.observe(x);
  CHECK(sum(hist.histogram()).item<double>() == doctest::Approx(40010));

  // The errors over everything the observers saw, which the histogram describes.
  Tensor seen = cat({bulk, x});
  double mse_min_max = quantization_mse(seen, min_max.qparams());
  double mse_hist = quantization_mse(seen, hist.qparams());
  auto [lo, hi] = hist.range();
  MESSAGE("int4 MSE: min-max " << mse_min_max << ", histogram " << mse_hist << " with range ["
                               << lo.item<double>() << ", " << hi.item<double>() << "]");
  // Min-max: the bulk's values mostly round to 0, an error near the bulk's variance (~0.9).
  CHECK(mse_min_max > 0.5);
  // The histogram clips the outliers at a few sigma: their error (~10 * 40^2 / 20010 = 0.8) and
  // the bulk's rounding add to less.
  CHECK(mse_hist < 0.75 * mse_min_max);
  CHECK(hi.item<double>() < 20);
  CHECK(lo.item<double>() > -20);
  // The estimate the search used agrees with the measured error within the histogram's
  // resolution.
  CHECK(hist.expected_error(lo.item<float>(), hi.item<float>()) ==
        doctest::Approx(mse_hist).epsilon(0.1));
  CHECK(hist.expected_error(-49, 48) == doctest::Approx(mse_min_max).epsilon(0.1));
}

TEST_CASE(
    "HistogramObserver: the error estimate is exact for uniform data and a symmetric scheme") {
  // 10000 points evenly over [-1, 1]: min-max symmetric int8 has step 2/255, rounding error
  // step^2 / 12 and nothing to clip; the search keeps (about) the full range.
  Tensor x = linspace(-1, 1, 10000);
  HistogramObserver hist({.mode = QMode::symmetric}, 512);
  hist.observe(x);
  double step = 1.0 / 127.5;
  CHECK(hist.expected_error(-1, 1) == doctest::Approx(step * step / 12).epsilon(0.01));
  auto [lo, hi] = hist.range();
  CHECK(hi.item<double>() == doctest::Approx(1).epsilon(0.01));
  CHECK(lo.item<double>() == doctest::Approx(-1).epsilon(0.01));
  CHECK(quantization_mse(x, hist.qparams()) == doctest::Approx(step * step / 12).epsilon(0.05));
  CHECK(error_of([] { HistogramObserver bad({.channel_axis = 0}); }) ==
        "HistogramObserver: scheme int8 affine per-channel(axis=0) [-128, 127] is per-channel; "
        "the histogram observer is per-tensor only");
}

TEST_CASE("HistogramObserver: widening keeps every count") {
  HistogramObserver hist({}, 8);
  hist.observe(f32({0, 1, 2, 3}));  // [0, 3], 8 bins of 0.375
  hist.observe(f32({-3, 5}));       // widens to [-3, 5], bins of 1
  CHECK(sum(hist.histogram()).item<double>() == doctest::Approx(6));
  std::vector<double> counts = values(hist.histogram());
  // -3 in bin 0, 5 in the last; the old [0, 3] mass lies in bins 3 .. 5 ([0, 3)).
  CHECK(counts[0] == 1);
  CHECK(counts[7] == 1);
  CHECK(counts[3] + counts[4] + counts[5] == doctest::Approx(4));
  CHECK(hist.bins() == 8);
}

TEST_CASE("PercentileObserver: clips outliers to a percentile of |x| or of each tail") {
  // 0, 1, ..., 999 and one outlier at 1e6: the 99th percentile of |x| lies at order statistic
  // 0.99 * 1000 = 990, so the range is [0, 990] instead of [0, 1e6].
  std::vector<float> v;
  for (int i = 0; i < 1000; ++i) v.push_back(static_cast<float>(i));
  v.push_back(1e6f);
  PercentileObserver obs({.dtype = QDType::uint8}, 99);
  obs.observe(f32(v));
  check_close(obs.range().first, {0});
  check_close(obs.range().second, {990});
  CHECK(obs.qparams().scale.item<float>() == doctest::Approx(990.0 / 255).epsilon(1e-6));

  // Tails: [-500 .. 499] and outliers at -1e4 and 1e4 (1002 values): the 1st and 99th
  // percentiles at positions 10.01 and 990.99: -500 + 9.01 = -490.99 and -500 + 989.99 = 489.99.
  std::vector<float> w = {-1e4f, 1e4f};
  for (int i = -500; i < 500; ++i) w.push_back(static_cast<float>(i));
  PercentileObserver tails({}, 99, PercentileMode::tails);
  tails.observe(f32(w));
  check_close(tails.range().first, {-490.99}, 1e-6);
  check_close(tails.range().second, {489.99}, 1e-6);

  // Batches average: a second batch with |x| percentile 10 moves the bounds to the mean.
  PercentileObserver mean_of({}, 100);
  mean_of.observe(f32({-2, 4}));
  mean_of.observe(f32({-4, 10}));
  check_close(mean_of.range().first, {-3});
  check_close(mean_of.range().second, {7});
  CHECK(mean_of.batches() == 2);

  CHECK(error_of([] { PercentileObserver bad({}, 30); }) ==
        "PercentileObserver: percentile must be in (50, 100], got 30");
}

TEST_CASE("PercentileObserver: per-channel along the last axis") {
  // x: [101, 2]: channel 0 holds 0 .. 100, channel 1 holds 0 .. -100 (negatives).
  std::vector<float> v;
  for (int i = 0; i <= 100; ++i) {
    v.push_back(static_cast<float>(i));
    v.push_back(static_cast<float>(-i));
  }
  PercentileObserver obs({.channel_axis = -1}, 90);
  obs.observe(f32(v, {101, 2}));
  // 90th percentile of |x| per channel: position 0.9 * 100 = 90.
  check_close(obs.range().first, {0, -90});
  check_close(obs.range().second, {90, 0});
}

TEST_CASE("Observers: state dicts keep the ranges and load at any channel count") {
  MinMaxObserver calibrated({.channel_axis = 0});
  calibrated.observe(f32({-1, 2, -3, 4}, {2, 2}));
  nn::StateDict state = calibrated.state_dict();
  REQUIRE(state.size() == 2);
  CHECK(state[0].first == "min_val");
  CHECK(state[1].first == "max_val");

  MinMaxObserver fresh({.channel_axis = 0});
  CHECK(fresh.channels() == 0);
  fresh.load_state(state);
  CHECK(fresh.channels() == 2);
  check_close(fresh.range().first, {-1, -3});
  check_close(fresh.range().second, {2, 4});
  check_close(fresh.qparams().scale, values(calibrated.qparams().scale));
  CHECK(error_of([&] {
          fresh.load_state({{"min_val", zeros({2})}});
        }) == "MinMaxObserver::load_state: missing [max_val], unexpected []");

  // A histogram of another size loads too: the bin count follows the state.
  HistogramObserver hist({}, 64);
  hist.observe(f32({-1, 0, 5}));
  HistogramObserver hist_copy;
  hist_copy.load_state(hist.state_dict());
  CHECK(hist_copy.bins() == 64);
  check_close(hist_copy.range().second, values(hist.range().second));
  CHECK(hist_copy.expected_error(-1, 5) == doctest::Approx(hist.expected_error(-1, 5)));
  hist_copy.observe(f32({7}));
  CHECK(sum(hist_copy.histogram()).item<double>() == doctest::Approx(4));
}

TEST_CASE("make_observer: every name builds its kind with the options") {
  CHECK(observer_names() ==
        std::vector<std::string>{"min_max", "moving_average_min_max", "histogram", "percentile"});
  Tensor x = f32({-2, -1, 0, 1, 6});
  for (const std::string& name : observer_names()) {
    CAPTURE(name);
    std::shared_ptr<Observer> obs = make_observer(name, {.scheme = {.dtype = QDType::uint8}});
    CHECK(std::string(quant::name(observer_kind(name))) == name);
    obs->observe(x);
    auto [lo, hi] = obs->range();
    // Every kind keeps this small, outlier-free range (percentile 99.99 of |x| is ~6).
    CHECK(lo.item<double>() == doctest::Approx(-2).epsilon(1e-3));
    CHECK(hi.item<double>() == doctest::Approx(6).epsilon(0.01));
  }
  auto moving =
      make_observer(ObserverKind::moving_average_min_max,
                    {.scheme = {.channel_axis = 0}, .averaging_constant = 0.5, .channels = 3});
  CHECK(moving->type_name() == "MovingAverageMinMaxObserver");
  CHECK(moving->channels() == 3);
  CHECK(dynamic_cast<MovingAverageMinMaxObserver&>(*moving).averaging_constant() == 0.5);
  auto pct = make_observer("percentile", {.percentile = 99.5});
  CHECK(dynamic_cast<PercentileObserver&>(*pct).percentile() == 99.5);
  CHECK(error_of([] { make_observer("kl"); }) ==
        "make_observer: unknown observer 'kl' (known: min_max, moving_average_min_max, "
        "histogram, percentile)");
}
