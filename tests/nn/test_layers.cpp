// Layers on hand-computed cases: forward values, train/eval behaviour, default initialization
// bounds and shape errors. (PyTorch-recorded values are in test_reference.cpp.)
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "core/creation.h"
#include "core/error.h"
#include "core/generator.h"
#include "nn/activation.h"
#include "nn/conv.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/normalization.h"
#include "nn/pooling.h"
#include "testing.h"

using namespace nabla;
using testing::check_close;
using testing::error_of;

namespace {

void set(const Tensor& t, std::vector<double> values) {
  NoGradGuard no_grad;
  copy_(t, from_vector(values, t.shape()));
}

}  // namespace

TEST_CASE("Linear: y = x W^T + b, over any number of batch dims") {
  nn::Linear fc(2, 3);
  set(fc.weight(), {1, 2, 3, 4, 5, 6});
  set(fc.bias(), {0.5, -1, 0});
  check_close(fc(from_vector<float>({1, 1, 2, -1}, {2, 2})), {3.5, 6, 11, 0.5, 1, 4});
  Tensor y = fc(from_vector<float>({1, 1, 2, -1}, {1, 2, 1, 2}));
  CHECK(y.shape() == Shape{1, 2, 1, 3});
  check_close(y, {3.5, 6, 11, 0.5, 1, 4});
  CHECK(error_of([&] {
          fc(zeros({2, 3}));
        }) == "Linear: input [2, 3] must end in 2 features (weight [3, 2])");
}

TEST_CASE("Conv2d: values with padding, stride and groups") {
  Tensor x = reshape(arange(1, 10), {1, 1, 3, 3});
  nn::Conv2d plain(1, 1, 2);
  set(plain.weight(), {1, 1, 1, 1});
  set(plain.bias(), {1});
  check_close(plain(x), {13, 17, 25, 29});

  nn::Conv2d strided(1, 1, 2, {.stride = 2, .padding = 1});
  set(strided.weight(), {1, 1, 1, 1});
  set(strided.bias(), {1});
  check_close(strided(x), {2, 6, 12, 29});

  nn::Conv2d grouped(2, 2, 1, {.groups = 2, .bias = false});
  CHECK(grouped.weight().shape() == Shape{2, 1, 1, 1});
  set(grouped.weight(), {2, 3});
  check_close(grouped(reshape(arange(1, 9), {1, 2, 2, 2})), {2, 4, 6, 8, 15, 18, 21, 24});
  CHECK(error_of([] {
          nn::Conv2d(3, 4, 3, {.groups = 2});
        }).find("groups (2) must divide in_channels (3)") != std::string::npos);
}

TEST_CASE("Pooling layers") {
  Tensor x = reshape(arange(16), {1, 1, 4, 4});
  check_close(nn::MaxPool2d(2)(x), {5, 7, 13, 15});
  check_close(nn::AvgPool2d(2)(x), {2.5, 4.5, 10.5, 12.5});
  check_close(nn::AdaptiveAvgPool2d(1)(x), {7.5});
  // Uneven windows: rows {0..2, 2..4}, columns {0..1, 1..3, 3..4} of a 5x5 ramp.
  check_close(nn::AdaptiveAvgPool2d(2, 3)(reshape(arange(25), {1, 1, 5, 5})),
              {5.5, 7, 8.5, 15.5, 17, 18.5});
  CHECK(nn::Flatten()(zeros({2, 3, 4, 5})).shape() == Shape{2, 60});
}

TEST_CASE("BatchNorm: batch statistics in training, running statistics in eval") {
  nn::BatchNorm1d bn(2);
  Tensor x = from_vector<float>({1, 2, 2, 4, 3, 6, 4, 8}, {4, 2});  // channel 1 = 2 * channel 0
  Tensor y = bn(x);
  const double s0 = std::sqrt(1.25 + 1e-5), s1 = std::sqrt(5 + 1e-5);
  check_close(y, {-1.5 / s0, -3 / s1, -0.5 / s0, -1 / s1, 0.5 / s0, 1 / s1, 1.5 / s0, 3 / s1});
  // running = 0.9 running + 0.1 batch, with the unbiased variance (n / (n - 1)).
  check_close(bn.running_mean(), {0.25, 0.5});
  check_close(bn.running_var(), {0.9 + 0.1 * 1.25 * 4 / 3, 0.9 + 0.1 * 5 * 4 / 3});
  CHECK(bn.num_batches_tracked().item<int64_t>() == 1);

  bn.eval();
  Tensor z = bn(x);
  std::vector<double> mean = bn.running_mean().to_vector<double>();
  std::vector<double> var = bn.running_var().to_vector<double>();
  check_close(z,
              {(1 - mean[0]) / std::sqrt(var[0] + 1e-5), (2 - mean[1]) / std::sqrt(var[1] + 1e-5),
               (2 - mean[0]) / std::sqrt(var[0] + 1e-5), (4 - mean[1]) / std::sqrt(var[1] + 1e-5),
               (3 - mean[0]) / std::sqrt(var[0] + 1e-5), (6 - mean[1]) / std::sqrt(var[1] + 1e-5),
               (4 - mean[0]) / std::sqrt(var[0] + 1e-5), (8 - mean[1]) / std::sqrt(var[1] + 1e-5)});
  CHECK(bn.num_batches_tracked().item<int64_t>() == 1);  // eval leaves the statistics alone

  // Without running statistics, eval normalizes by the batch too.
  nn::BatchNorm1d batch_only(2, {.track_running_stats = false});
  batch_only.eval();
  check_close(batch_only(x), y.to_vector<double>());
  CHECK(batch_only.named_buffers().empty());

  bn.train();
  CHECK(error_of([&] {
          bn(zeros({1, 2}));
        }).find("more than one value per channel") != std::string::npos);
  CHECK(error_of([&] {
          nn::BatchNorm2d(3)(zeros({2, 4, 2, 2}));
        }) == "BatchNorm2d: input [2, 4, 2, 2] has 4 channels, expected 3");
}

TEST_CASE("batch_norm_activation: one fused pass for ReLU, module by module when watched") {
  manual_seed(7);
  Tensor x = randn({4, 3, 5, 5}), residual = randn({4, 3, 5, 5});
  for (bool training : {true, false}) {
    INFO("training ", training);
    nn::BatchNorm2d fused_bn(3), plain_bn(3);
    nn::ReLU act;
    fused_bn.train(training);
    plain_bn.train(training);
    check_close(nn::batch_norm_activation(fused_bn, act, x, residual),
                testing::values(act(add(plain_bn(x), residual))));
    check_close(nn::batch_norm_activation(fused_bn, act, x), testing::values(act(plain_bn(x))));
    // Both updated their running statistics the same way.
    check_close(fused_bn.running_mean(), testing::values(plain_bn.running_mean()));
  }
  // A hook on the activation sees its input, so the block runs module by module; a GELU never
  // fuses.
  nn::BatchNorm2d bn(3);
  nn::ReLU act;
  Tensor seen;
  act.register_forward_hook([&](nn::Module&, const Tensor& in, const Tensor&) { seen = in; });
  Tensor y = nn::batch_norm_activation(bn, act, x, residual);
  REQUIRE(seen.defined());
  CHECK(amin(seen).item<double>() < 0);
  check_close(y, testing::values(relu(seen)), 1e-12);
  nn::GELU gelu;
  check_close(nn::batch_norm_activation(bn, gelu, x), testing::values(gelu(bn(x))));
}

TEST_CASE("LayerNorm and GroupNorm normalize per sample") {
  check_close(nn::LayerNorm(Shape{4})(from_vector<float>({1, 2, 3, 4}, {1, 4})),
              {-1.5 / std::sqrt(1.25 + 1e-5), -0.5 / std::sqrt(1.25 + 1e-5),
               0.5 / std::sqrt(1.25 + 1e-5), 1.5 / std::sqrt(1.25 + 1e-5)});
  // Groups {1, 3} (mean 2, variance 1) and {10, 20} (mean 15, variance 25).
  check_close(nn::GroupNorm(2, 4)(from_vector<float>({1, 3, 10, 20}, {1, 4, 1, 1})),
              {-1 / std::sqrt(1 + 1e-5), 1 / std::sqrt(1 + 1e-5), -5 / std::sqrt(25 + 1e-5),
               5 / std::sqrt(25 + 1e-5)});
}

TEST_CASE("Dropout: zeroes a fraction p in training and scales the rest, eval is the identity") {
  manual_seed(3);
  nn::Dropout drop(0.3);
  Tensor x = ones({200000});
  std::vector<double> y = drop(x).to_vector<double>();
  int64_t zeros_seen = 0, others = 0;
  for (double v : y) {
    zeros_seen += v == 0;
    others += v != 0 && std::abs(v - 1 / 0.7) > 1e-6;
  }
  CHECK(others == 0);
  // Binomial(200000, 0.3): standard deviation about 205.
  CHECK(std::abs(zeros_seen - 60000) < 1200);
  drop.eval();
  CHECK(drop(x).is_same(x));
  CHECK(nn::dropout(x, 0.0).is_same(x));
  CHECK(sum(nn::dropout(x, 1.0)).item() == 0);
  CHECK(error_of([] { nn::Dropout(1.5); }) == "Dropout: p must be in [0, 1], got 1.5");
}

TEST_CASE("Dropout2d drops whole channels") {
  manual_seed(4);
  Tensor y = nn::Dropout2d(0.5)(ones({8, 16, 3, 3}));
  Tensor per_channel = amax(y, {2, 3});
  CHECK(sum(eq(amin(y, {2, 3}), per_channel)).item() == 8 * 16);  // constant per channel
  double dropped = sum(eq(per_channel, 0.0)).item();
  CHECK(dropped > 30);
  CHECK(dropped < 98);
  CHECK(amax(y).item() == 2);
}

TEST_CASE("DropConnect drops weights in training, not inputs, eval runs the plain layer") {
  manual_seed(5);
  auto fc = std::make_shared<nn::Linear>(1000, 1);
  set(fc->weight(), std::vector<double>(1000, 1.0));
  set(fc->bias(), {0});
  nn::DropConnect layer(fc, 0.5);
  std::vector<double> before = fc->weight().to_vector<double>();
  double y = layer(ones({1, 1000})).item();
  // Each kept weight counts 2: an even number near 1000 (binomial, sd about 32 after scaling).
  CHECK(std::fmod(y, 2.0) == 0);
  CHECK(std::abs(y - 1000) < 200);
  CHECK(y != 1000);
  CHECK(fc->weight().to_vector<double>() == before);
  layer.eval();
  CHECK(layer(ones({1, 1000})).item() == 1000);
  CHECK(layer.named_parameters().front().first == "layer.weight");
}

TEST_CASE("Embedding: rows of the table, the padding row starts at zero and gets no gradient") {
  nn::Embedding table(4, 2, /*padding_idx=*/1);
  check_close(select(table.weight(), 0, 1), {0, 0});
  set(table.weight(), {0, 1, 2, 3, 4, 5, 6, 7});
  Tensor ids = from_vector<int64_t>({3, 1, 0, 3}, {2, 2});
  Tensor y = table(ids);
  CHECK(y.shape() == Shape{2, 2, 2});
  check_close(y, {6, 7, 2, 3, 0, 1, 6, 7});
  backward(sum(y));
  check_close(table.weight().grad(), {1, 1, 0, 0, 0, 0, 2, 2});
  CHECK(error_of([&] { table(zeros({2})); }) ==
        "Embedding: ids must be int64 or int32, got float32");
}

TEST_CASE("default initialization is PyTorch's: U(-1/sqrt(fan_in), 1/sqrt(fan_in))") {
  manual_seed(6);
  nn::Linear fc(400, 300);
  nn::Conv2d conv(16, 32, 3);
  for (auto [weight, bias, fan_in] :
       {std::tuple{fc.weight(), fc.bias(), 400.0}, std::tuple{conv.weight(), conv.bias(), 144.0}}) {
    const double bound = 1 / std::sqrt(fan_in);
    CHECK(amax(abs(weight)).item() <= bound);
    CHECK(amax(abs(weight)).item() > 0.99 * bound);
    // U(-b, b) has standard deviation b / sqrt(3).
    CHECK(stddev(weight).item() == doctest::Approx(bound / std::sqrt(3.0)).epsilon(0.02));
    CHECK(amax(abs(bias)).item() <= bound);
  }
  nn::BatchNorm2d bn(4);
  check_close(bn.weight(), {1, 1, 1, 1});
  check_close(bn.bias(), {0, 0, 0, 0});
  check_close(bn.running_var(), {1, 1, 1, 1});
  nn::Embedding table(1000, 100);
  CHECK(mean(table.weight()).item() == doctest::Approx(0).scale(1).epsilon(0.01));
  CHECK(stddev(table.weight()).item() == doctest::Approx(1).epsilon(0.01));
}
