// Weight-only quantization: WeightOnlyLinear's int4 and int8 weights against their formula (packed
// rows, groups, odd widths), its forward, its size, a Fashion-MNIST MLP's accuracy at 4 and 8
// bits, the checkpoint round trip, and the errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "core/creation.h"
#include "core/generator.h"
#include "core/ops.h"
#include "data/idx.h"
#include "nn/linear.h"
#include "nn/loss.h"
#include "nn/models/mlp.h"
#include "nn/safetensors.h"
#include "quant/quantize_dynamic.h"
#include "quant/quantized_checkpoint.h"
#include "quant/report.h"
#include "quant/weight_only_linear.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::quant;
using testing::error_of;

namespace {

int64_t count_type(nn::Module& model, const std::string& type) {
  int64_t n = 0;
  for (auto& [name, m] : model.named_modules()) n += m->type_name() == type;
  return n;
}

double accuracy(nn::Module& model, const Tensor& images, const Tensor& labels) {
  NoGradGuard no_grad;
  Tensor predicted = argmax(model(images), 1);
  return 100.0 * sum(eq(predicted, labels)).item<double>() / double(labels.numel());
}

}  // namespace

TEST_CASE("WeightOnlyLinear: int4 and int8 weights are the symmetric per-group formula") {
  manual_seed(61);
  // 13 inputs: an odd row (a padding nibble) and groups of 5, 5 and 3.
  const Tensor w = randn({4, 13}), b = randn({4});
  for (QDType dtype : {QDType::int4, QDType::int8}) {
    CAPTURE(name(dtype));
    WeightOnlyLinear layer(w, b, {.dtype = dtype, .group_size = 5});
    const double qmax = dtype == QDType::int4 ? 7 : 127;
    CHECK(layer.group_size() == 5);
    const Tensor scale = layer.named_buffers()[1].second;
    REQUIRE(scale.shape() == Shape{4, 3});
    const auto wv = w.to_vector<double>(), sv = scale.to_vector<double>();
    const auto dq = layer.dequantized_weight().to_vector<double>();
    for (int64_t r = 0; r < 4; ++r) {
      for (int64_t g = 0; g < 3; ++g) {
        double amax = 0;
        for (int64_t k = g * 5; k < std::min<int64_t>(g * 5 + 5, 13); ++k)
          amax = std::max(amax, std::fabs(wv[size_t(r * 13 + k)]));
        CHECK(sv[size_t(r * 3 + g)] == doctest::Approx(amax / qmax).epsilon(1e-6));
      }
      for (int64_t k = 0; k < 13; ++k) {
        const double s = sv[size_t(r * 3 + k / 5)];
        const double q = std::nearbyint(wv[size_t(r * 13 + k)] / s);
        CHECK(dq[size_t(r * 13 + k)] == doctest::Approx(q * s).epsilon(1e-6));
        CHECK(std::fabs(dq[size_t(r * 13 + k)] - wv[size_t(r * 13 + k)]) <= s / 2 + 1e-6);
      }
    }
    const Tensor weight = layer.named_buffers()[0].second;
    CHECK(weight.shape() == (dtype == QDType::int4 ? Shape{4, 7} : Shape{4, 13}));
    CHECK(weight.dtype() == (dtype == QDType::int4 ? kUInt8 : kInt8));
    // forward is the float product with the dequantized weight.
    NoGradGuard no_grad;
    const Tensor x = randn({3, 2, 13});
    const Tensor expected = add(matmul(x, transpose(layer.dequantized_weight(), 0, 1)), b);
    testing::check_close(layer(x), testing::values(expected), 1e-6);
  }
  // Group 0 and groups wider than the row: one scale per row.
  CHECK(WeightOnlyLinear(w, b, {.group_size = 0}).group_size() == 13);
  CHECK(WeightOnlyLinear(w, b, {.group_size = 64}).group_size() == 13);
}

TEST_CASE("WeightOnlyLinear: 4-bit weights take an eighth of the float bytes, plus scales") {
  manual_seed(62);
  nn::models::MLP mlp({256, 128, 10});
  auto int4 = quantize_weight_only(mlp, {.dtype = QDType::int4, .group_size = 64});
  auto int8 = quantize_weight_only(mlp, {.dtype = QDType::int8, .group_size = 64});
  CHECK(count_type(*int4, "WeightOnlyLinear") == 2);
  CHECK(count_type(*int4, "Linear") == 0);
  // Weights 256 * 128 + 128 * 10 = 34,048 values, biases 138 floats; scales: 128 * 4 + 10 * 2.
  const int64_t biases = 138 * 4, scales = (128 * 4 + 10 * 2) * 4;
  CHECK(state_bytes(mlp) == 34048 * 4 + biases);
  CHECK(state_bytes(*int4) == 34048 / 2 + scales + biases);
  CHECK(state_bytes(*int8) == 34048 + scales + biases);
}

TEST_CASE("quantize_weight_only: a Fashion-MNIST MLP keeps its accuracy at 8 bits, nearly at 4") {
  const std::filesystem::path dir = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(dir)) {
    MESSAGE("Fashion-MNIST not found; skipped");
    return;
  }
  auto flat = [](const data::LabeledImages& set, int64_t n) {
    return reshape(div(core::to(slice(set.images, 0, 0, n), kFloat32), 255.0), {n, 784});
  };
  const data::LabeledImages train = data::read_fashion_mnist(dir, data::Split::train);
  const data::LabeledImages test = data::read_fashion_mnist(dir, data::Split::test);
  const Tensor images = flat(train, 4096), labels = slice(train.labels, 0, 0, 4096);
  const Tensor test_images = flat(test, 2000), test_labels = slice(test.labels, 0, 0, 2000);
  manual_seed(63);
  nn::models::MLP mlp({784, 128, 10});
  for (int64_t epoch = 0; epoch < 12; ++epoch) {
    for (int64_t start = 0; start < 4096; start += 64) {
      Tensor loss = nn::cross_entropy(mlp(slice(images, 0, start, start + 64)),
                                      slice(labels, 0, start, start + 64));
      backward(loss);
      NoGradGuard no_grad;
      for (const Tensor& p : mlp.parameters()) add_(p, p.grad(), -0.1);
      mlp.zero_grad();
    }
  }
  mlp.eval();
  const double float_acc = accuracy(mlp, test_images, test_labels);
  auto int8 = quantize_weight_only(mlp, {.dtype = QDType::int8});
  auto int4 = quantize_weight_only(mlp, {.dtype = QDType::int4, .group_size = 32});
  auto int4_rows = quantize_weight_only(mlp, {.dtype = QDType::int4, .group_size = 0});
  const double acc8 = accuracy(*int8, test_images, test_labels);
  const double acc4 = accuracy(*int4, test_images, test_labels);
  const double acc4_rows = accuracy(*int4_rows, test_images, test_labels);
  MESSAGE("float ", float_acc, "%, int8 ", acc8, "%, int4 (groups of 32) ", acc4,
          "%, int4 (whole rows) ", acc4_rows, "%");
  CHECK(float_acc > 80);
  CHECK(std::fabs(acc8 - float_acc) <= 0.5);
  CHECK(float_acc - acc4 <= 2.0);
  // Groups follow the weights more closely than one scale per row.
  auto fc1 = [](nn::Module& model) -> nn::Module& {
    for (auto& [name, child] : model.named_children())
      if (name == "fc1") return *child;
    FAIL("no fc1");
    return model;
  };
  auto weight_error = [&](nn::Module& q) {
    auto& layer = dynamic_cast<WeightOnlyLinear&>(fc1(q));
    auto& fc = dynamic_cast<nn::Linear&>(fc1(mlp));
    return amax(abs(sub(layer.dequantized_weight(), fc.weight()))).item<double>();
  };
  CHECK(weight_error(*int4) < weight_error(*int4_rows));
}

TEST_CASE("WeightOnlyLinear: checkpoints round-trip bit-exact; bad values and options are errors") {
  manual_seed(64);
  nn::models::MLP a({12, 9, 4}), b({12, 9, 4});
  auto qa = quantize_weight_only(a), qb = quantize_weight_only(b);
  const auto path = std::filesystem::temp_directory_path() / "nabla_test_weight_only.safetensors";
  save_quantized(*qa, path);
  load_quantized(*qb, path);
  NoGradGuard no_grad;
  const Tensor x = randn({5, 12});
  CHECK(testing::values((*qb)(x)) == testing::values((*qa)(x)));
  // A nibble of -8 is outside the narrow int4 range: rejected, and the model keeps its state.
  nn::StateDict state = qa->state_dict();
  for (auto& [name, t] : state)
    if (name == "fc1.weight") t = full(t.shape(), 0x88, {.dtype = kUInt8});
  nn::save_safetensors(path, state, {{kQuantizedFormatKey, kQuantizedFormat}});
  CHECK(error_of([&] { load_quantized(*qb, path); }) ==
        "WeightOnlyLinear::refresh: weight value -8 at row 0, column 0 is outside [-7, 7] "
        "(symmetric int4)");
  CHECK(testing::values((*qb)(x)) == testing::values((*qa)(x)));
  std::filesystem::remove(path);

  const Tensor w = randn({3, 4});
  CHECK(error_of([&] { WeightOnlyLinear(w, Tensor(), {.dtype = QDType::uint8}); }) ==
        "WeightOnlyLinear: weights are int4 or int8, got uint8");
  CHECK(error_of([&] { WeightOnlyLinear(w, Tensor(), {.group_size = -1}); }) ==
        "WeightOnlyLinear: group_size must be >= 0, got -1");
  WeightOnlyLinear layer(w, Tensor(), {});
  CHECK(error_of([&] {
          layer(randn({2, 5}));
        }) == "WeightOnlyLinear::forward: input [2, 5] is not a float tensor ending in 4 features");
  CHECK(error_of([&] { quantize_weight_only(layer); }) ==
        "quantize_weight_only: no rule for a model of type WeightOnlyLinear (Linear, Sequential "
        "and its models, and ResNet have one)");
}
