// The models: parameter counts against the published architectures, output shapes for CIFAR
// and Fashion-MNIST inputs, a backward pass reaching every parameter, and the registry.
#include <doctest/doctest.h>
#include <algorithm>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "core/creation.h"
#include "core/error.h"
#include "core/generator.h"
#include "core/ops.h"
#include "nn/models/cnn.h"
#include "nn/models/fastnet.h"
#include "nn/models/mlp.h"
#include "nn/models/registry.h"
#include "nn/models/resnet.h"
#include "nn/pooling.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::testing;
namespace models = nabla::nn::models;

TEST_CASE("parameter counts") {
  // The counts PyTorch reports for the same architectures.
  CHECK(models::create("cnn")->num_parameters() == 113'738);
  CHECK(models::create("resnet20")->num_parameters() == 272'474);
  CHECK(models::resnet20({}, models::Shortcut::zero_pad)->num_parameters() == 269'722);
  CHECK(models::create("resnet18")->num_parameters() == 11'173'962);
  CHECK(models::MLP({784, 512, 256, 10}).num_parameters() == 535'818);
  CHECK(models::create("mlp", {.in_channels = 1, .image_size = 28})->num_parameters() == 535'818);
  int64_t fastnet = models::create("fastnet")->num_parameters();
  // Convolutions 1,973,088 + BatchNorm 2,368 + Linear 2,560.
  CHECK(fastnet == 1'978'016);
  CHECK(fastnet > 1'000'000);
  CHECK(fastnet < 2'000'000);
  // Width scales every hidden layer.
  CHECK(models::create("resnet20", {.width = 2})->num_parameters() > 4 * 272'474 * 0.9);
}

TEST_CASE("depth sets the layers of each stage") {
  // Two convolutions a stage: 896 + 9,248 + 18,496 + 36,928 + 73,856 + 147,584 + the
  // classifier's 20,490.
  auto cnn = models::create("cnn", {.depth = 2});
  CHECK(cnn->num_parameters() == 307'498);
  const nn::NamedTensors parameters = cnn->named_parameters();
  CHECK(std::count_if(parameters.begin(), parameters.end(),
                      [](const auto& entry) { return entry.first == "conv2_2.weight"; }) == 1);
  // Five blocks a stage is ResNet-32: 464,154 parameters with the paper's zero-padding shortcut.
  CHECK(models::resnet20({.depth = 5}, models::Shortcut::zero_pad)->num_parameters() == 464'154);
  // Three hidden layers: 784-512-256-256-10.
  CHECK(models::create("mlp", {.in_channels = 1, .image_size = 28, .depth = 3})->num_parameters() ==
        601'610);
  CHECK(models::create("cnn", {.depth = 0})->num_parameters() == 113'738);
  CHECK_THROWS_WITH_AS(models::create("fastnet", {.depth = 2}),
                       doctest::Contains("FastNet: its depth is fixed"), ValueError);
  CHECK_THROWS_AS(models::create("cnn", {.depth = -1}), ValueError);
}

TEST_CASE(
    "every model maps a batch of images to class scores, and backward reaches every "
    "parameter") {
  manual_seed(1);
  for (const std::string& name : models::names()) {
    for (std::pair<int64_t, int64_t> input : {std::pair<int64_t, int64_t>{3, 32}, {1, 28}}) {
      const int64_t channels = input.first, size = input.second;
      if (name == "resnet18" && channels == 1) continue;  // the same code path, and slow
      CAPTURE(name);
      CAPTURE(size);
      auto model = models::create(
          name, {.num_classes = 7, .in_channels = channels, .image_size = size, .width = 0.25});
      Tensor y = (*model)(randn({2, channels, size, size}));
      CHECK(y.shape() == Shape{2, 7});
      backward(sum(mul(y, randn({2, 7}))));
      for (const auto& entry : model->named_parameters()) {
        const std::string& pname = entry.first;
        const Tensor& p = entry.second;
        CAPTURE(pname);
        REQUIRE(p.grad().defined());
        CHECK(sum(abs(p.grad())).item() > 0);
      }
    }
  }
}

TEST_CASE("models print their own names and summarize") {
  auto cnn = models::create("cnn");
  CHECK(cnn->type_name() == "SmallCNN");
  std::string text = cnn->summary({1, 3, 32, 32});
  CHECK(text.find("conv1 (Conv2d)") != std::string::npos);
  CHECK(text.find("[1, 128, 4, 4]") != std::string::npos);
  CHECK(text.find("parameters: 113738") != std::string::npos);
}

TEST_CASE("an unknown model name lists the known ones") {
  try {
    models::create("vgg");
    FAIL("no error");
  } catch (const ValueError& e) {
    CHECK(std::string(e.what()) ==
          "models::create: unknown model 'vgg'; known: cnn, fastnet, mlp, resnet18, resnet20");
  }
}

TEST_CASE("FastNet::whiten_stem: the stem's filters whiten 3x3 patches and stop training") {
  manual_seed(4);
  // Correlated images: a shared smooth component plus noise, so the patch covariance is far from
  // the identity.
  Tensor shared = nn::adaptive_avg_pool2d(randn({64, 1, 32, 32}), 16, 16);
  Tensor images = shared * 3.0 + 0.3 * randn({64, 3, 16, 16});
  models::FastNet net(models::ModelOptions{.width = 0.5});  // a stem of 16 filters
  net.whiten_stem(images, /*eps=*/1e-6);
  Tensor weight = net.named_parameters().front().second;
  REQUIRE(weight.shape() == Shape{16, 3, 3, 3});
  CHECK(!weight.requires_grad());
  // Filters 8..15 are the negatives of 0..7.
  CHECK(values(slice(weight, 0, 8, 16) + slice(weight, 0, 0, 8)) == std::vector<double>(216, 0.0));
  // The first 8 filters' responses over every patch: uncorrelated, each of unit variance.
  Tensor responses = core::conv2d(images, core::contiguous(slice(weight, 0, 0, 8)), {});
  Tensor rows = reshape(permute(responses, {0, 2, 3, 1}), {-1, 8});
  Tensor centered = rows - mean(rows, {0}, true);
  Tensor covariance = matmul(transpose(centered, 0, 1), centered) / double(rows.size(0) - 1);
  check_close(covariance, values(eye(8)), 2e-3);
}
