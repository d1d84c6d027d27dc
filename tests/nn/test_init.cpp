// nn::init: the drawn values' bounds, mean and standard deviation match each formula within
// sampling error (five standard errors on 200,000 draws), and orthogonal_ is orthogonal.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include "autograd/ops.h"
#include "core/creation.h"
#include "core/error.h"
#include "core/generator.h"
#include "nn/init.h"

using namespace nabla;
namespace init = nabla::nn::init;

namespace {

struct Moments {
  double mean, std, min, max;
};

Moments moments(const Tensor& t) {
  return {mean(t).item(), stddev(t).item(), amin(t).item(), amax(t).item()};
}

// Mean and standard deviation within five standard errors of the sample statistics of n draws
// (the standard error of a sample std is about std / sqrt(2n) for near-normal draws; uniform
// draws have a smaller one).
void check_distribution(const Tensor& t, double expected_mean, double expected_std) {
  const double n = double(t.numel());
  Moments m = moments(t);
  INFO("mean ", m.mean, " std ", m.std, " expected ", expected_mean, ", ", expected_std);
  CHECK(std::abs(m.mean - expected_mean) < 5 * expected_std / std::sqrt(n));
  CHECK(std::abs(m.std - expected_std) < 5 * expected_std / std::sqrt(2 * n));
}

const Shape kWeight{500, 400};  // fan_in 400, fan_out 500

}  // namespace

TEST_CASE("fans and gains") {
  CHECK(init::fans(zeros({32, 16, 3, 3})) == std::pair<int64_t, int64_t>{144, 288});
  CHECK(init::fans(zeros(kWeight)) == std::pair<int64_t, int64_t>{400, 500});
  CHECK(init::calculate_gain("relu") == doctest::Approx(std::sqrt(2.0)));
  CHECK(init::calculate_gain("tanh") == doctest::Approx(5.0 / 3.0));
  CHECK(init::calculate_gain("leaky_relu", 0.2) == doctest::Approx(std::sqrt(2.0 / 1.04)));
  CHECK(init::calculate_gain("linear") == 1);
  CHECK_THROWS_AS(init::calculate_gain("swirl"), ValueError);
  CHECK_THROWS_AS(init::fans(zeros({5})), ShapeError);
}

TEST_CASE("uniform, normal, constant") {
  manual_seed(1);
  Tensor t = empty(kWeight);
  init::uniform_(t, -2, 3);
  Moments m = moments(t);
  CHECK(m.min >= -2);
  CHECK(m.max < 3);
  check_distribution(t, 0.5, 5 / std::sqrt(12.0));
  init::normal_(t, 1, 0.5);
  check_distribution(t, 1, 0.5);
  init::constant_(t, 0.25);
  CHECK(amin(t).item() == 0.25);
  CHECK(amax(t).item() == 0.25);
  init::zeros_(t);
  CHECK(amax(abs(t)).item() == 0);
  init::ones_(t);
  CHECK(amin(t).item() == 1);
}

TEST_CASE("Xavier: U(-b, b), b = gain sqrt(6 / (fan_in + fan_out)), N(0, gain^2 2 / (...))") {
  manual_seed(2);
  Tensor t = empty(kWeight);
  const double gain = 1.5, bound = gain * std::sqrt(6.0 / 900);
  init::xavier_uniform_(t, gain);
  Moments m = moments(t);
  CHECK(m.max <= bound);
  CHECK(m.min >= -bound);
  CHECK(m.max > 0.999 * bound);
  check_distribution(t, 0, bound / std::sqrt(3.0));
  init::xavier_normal_(t, gain);
  check_distribution(t, 0, gain * std::sqrt(2.0 / 900));
}

TEST_CASE("Kaiming: std = gain / sqrt(fan) in both modes") {
  manual_seed(3);
  Tensor t = empty(kWeight);
  const double relu_std = std::sqrt(2.0) / std::sqrt(400.0);
  init::kaiming_uniform_(t, 0, init::FanMode::fan_in, "relu");
  CHECK(amax(abs(t)).item() <= std::sqrt(3.0) * relu_std);
  check_distribution(t, 0, relu_std);
  init::kaiming_normal_(t, 0, init::FanMode::fan_in, "relu");
  check_distribution(t, 0, relu_std);
  init::kaiming_normal_(t, 0.2, init::FanMode::fan_out, "leaky_relu");
  check_distribution(t, 0, std::sqrt(2.0 / 1.04) / std::sqrt(500.0));
  Tensor conv = empty({64, 32, 5, 5});  // fan_in 800
  init::kaiming_uniform_(conv, 0, init::FanMode::fan_in, "relu");
  check_distribution(conv, 0, std::sqrt(2.0 / 800));
}

TEST_CASE("orthogonal: rows (wide) or columns (tall) orthonormal, times the gain") {
  manual_seed(4);
  for (Shape shape : {Shape{30, 50}, Shape{50, 30}, Shape{8, 2, 3, 3}, Shape{40, 40}}) {
    CAPTURE(shape);
    Tensor t = empty(shape, {.dtype = kFloat64});
    init::orthogonal_(t, 2.0);
    Tensor w = reshape(t, {shape[0], -1});
    bool wide = w.size(0) <= w.size(1);
    Tensor gram = wide ? matmul(w, transpose(w)) : matmul(transpose(w), w);
    int64_t k = gram.size(0);
    CHECK(amax(abs(sub(gram, mul(eye(k, {.dtype = kFloat64}), 4.0)))).item() < 1e-12);
  }
  // A float32 tensor is filled from the same double computation.
  Tensor f = empty({16, 16});
  init::orthogonal_(f);
  CHECK(amax(abs(sub(matmul(f, transpose(f)), eye(16)))).item() < 1e-5);
  CHECK_THROWS_AS(init::orthogonal_(empty({5})), ShapeError);
}

TEST_CASE("trunc_normal: inside [a, b], with the truncated normal's mean and std") {
  manual_seed(5);
  const double mu = 1, sigma = 2, a = -1, b = 2;
  Tensor t = empty(kWeight, {.dtype = kFloat64});
  init::trunc_normal_(t, mu, sigma, a, b);
  Moments m = moments(t);
  CHECK(m.min >= a);
  CHECK(m.max <= b);
  // alpha, beta: the bounds in standard units; Z the probability mass between them.
  auto pdf = [](double x) { return std::exp(-x * x / 2) / std::sqrt(2 * std::numbers::pi); };
  auto cdf = [](double x) { return 0.5 * (1 + std::erf(x / std::numbers::sqrt2)); };
  const double alpha = (a - mu) / sigma, beta = (b - mu) / sigma, z = cdf(beta) - cdf(alpha);
  const double mean = mu + sigma * (pdf(alpha) - pdf(beta)) / z;
  const double variance =
      sigma * sigma *
      (1 + (alpha * pdf(alpha) - beta * pdf(beta)) / z - std::pow((pdf(alpha) - pdf(beta)) / z, 2));
  check_distribution(t, mean, std::sqrt(variance));
}

TEST_CASE("the same seed draws the same initial values") {
  Tensor a = empty({64, 32}), b = empty({64, 32});
  manual_seed(9);
  init::kaiming_uniform_(a);
  init::trunc_normal_(a, 0, 0.02);
  manual_seed(9);
  init::kaiming_uniform_(b);
  init::trunc_normal_(b, 0, 0.02);
  CHECK(a.to_vector<float>() == b.to_vector<float>());
}
