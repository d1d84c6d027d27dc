// convert: SmallCNN and ResNet-20 (projection and zero-pad shortcuts), prepared and calibrated on
// CIFAR-10 images (random ones where the data is missing), give logits close to the float model;
// the converted structure; a chain converted from hand-set qparams; a user's converter; errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "autograd/grad_mode.h"
#include "core/creation.h"
#include "core/generator.h"
#include "core/ops.h"
#include "data/cifar.h"
#include "nn/activation.h"
#include "nn/containers.h"
#include "nn/conv.h"
#include "nn/linear.h"
#include "nn/models/cnn.h"
#include "nn/models/resnet.h"
#include "nn/normalization.h"
#include "nn/pooling.h"
#include "quant/calibrate.h"
#include "quant/convert.h"
#include "quant/fake_quantize_module.h"
#include "quant/prepare.h"
#include "quant/qat.h"
#include "quant/quantized_block.h"
#include "quant/quantized_conv.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::quant;
using testing::error_of;

namespace {

// 96 CIFAR-10 test images scaled to [-1, 1], or normal noise when the subset is not there.
Tensor images() {
  static Tensor cached = [] {
    const auto file = std::filesystem::path(__FILE__).parent_path() /
                      "../../../shared/data/cifar-10-subset/test_batch.bin";
    if (std::filesystem::exists(file)) {
      Tensor x = core::slice(data::read_cifar10_file(file).images, 0, 0, 96);
      return core::binary(BinaryOp::sub, core::binary(BinaryOp::div, core::to(x, kFloat32), 127.5),
                          1.0);
    }
    MESSAGE("CIFAR-10 subset not found: random images instead");
    manual_seed(5);
    return randn({96, 3, 32, 32});
  }();
  return cached;
}

Tensor batch(int64_t i, int64_t size = 16) {
  return core::slice(images(), 0, i * size, (i + 1) * size);
}

// Batch-norm statistics from data, so that a random network's activations have realistic scales.
void warm_up_batch_norm(nn::Module& model, int64_t crop = 32) {
  NoGradGuard no_grad;
  model.train();
  for (int64_t i = 0; i < 4; ++i) model(core::slice(core::slice(batch(i), 2, 0, crop), 3, 0, crop));
  model.eval();
}

struct Agreement {
  double relative_error;  // ||q - f|| / ||f|| over all logits
  double argmax_agreement;
};

Agreement compare(nn::Module& float_model, nn::Module& int8_model, const Tensor& x) {
  NoGradGuard no_grad;
  const auto f = float_model(x).to_vector<double>();
  const Tensor qt = int8_model(x);
  REQUIRE(qt.dtype() == kFloat32);
  const auto q = qt.to_vector<double>();
  REQUIRE(f.size() == q.size());
  double num = 0, den = 0;
  int64_t agree = 0, rows = x.size(0), classes = int64_t(f.size()) / rows;
  for (size_t i = 0; i < f.size(); ++i) {
    num += (q[i] - f[i]) * (q[i] - f[i]);
    den += f[i] * f[i];
  }
  for (int64_t r = 0; r < rows; ++r) {
    auto fb = f.begin() + r * classes, qb = q.begin() + r * classes;
    agree += std::max_element(fb, fb + classes) - fb == std::max_element(qb, qb + classes) - qb;
  }
  return {std::sqrt(num / den), double(agree) / double(rows)};
}

// Min-max observers over the full uint8 range.
QuantConfig min_max_config() {
  QuantConfig config;
  config.activation_observer = ObserverKind::min_max;
  config.activation.scheme.reduce_range = false;
  return config;
}

// prepare, calibrate on 4 batches of 16, convert.
std::shared_ptr<nn::Module> quantize_model(nn::Module& model,
                                           const QuantConfig& config = min_max_config()) {
  prepare(model, config, batch(0, 2));
  int64_t next = 0;
  calibrate(
      model,
      [&]() -> std::optional<Tensor> {
        return next < 4 ? std::optional(batch(next++)) : std::nullopt;
      },
      4);
  return convert(model);
}

}  // namespace

TEST_CASE("convert: a SmallCNN's int8 logits stay close to the float model's") {
  manual_seed(11);
  nn::models::SmallCNN model({.width = 0.25});
  model.eval();
  auto q = quantize_model(model);
  // Held-out images: batches 4 and 5.
  const Agreement a = compare(model, *q, core::slice(images(), 0, 64, 96));
  MESSAGE("SmallCNN: relative error ", a.relative_error, ", argmax agreement ", a.argmax_agreement);
  // Measured: 0.010 and 1.0 on the CIFAR-10 subset.
  CHECK(a.relative_error < 0.03);
  CHECK(a.argmax_agreement >= 0.95);
  std::ostringstream os;
  os << *q;
  CHECK(os.str().find("QuantizedMaxPool2d") != std::string::npos);
  CHECK(os.str().find("output=float") != std::string::npos);
  // prepare's default: histogram observers and 7-bit activations (qmax 127), half the steps.
  nn::models::SmallCNN seven({.width = 0.25});
  seven.eval();
  auto q7 = quantize_model(seven, QuantConfig{});
  const Agreement a7 = compare(seven, *q7, core::slice(images(), 0, 64, 96));
  MESSAGE("SmallCNN, 7-bit activations: relative error ", a7.relative_error, ", argmax agreement ",
          a7.argmax_agreement);
  CHECK(a7.relative_error < 0.05);  // measured 0.016, agreement 0.97
  CHECK(a7.argmax_agreement >= 0.9);
}

TEST_CASE("convert: ResNet-20 with projection and zero-pad shortcuts stays close to float") {
  for (auto shortcut : {nn::models::Shortcut::projection, nn::models::Shortcut::zero_pad}) {
    CAPTURE(int(shortcut));
    manual_seed(12);
    auto model = nn::models::resnet20({.width = 0.5}, shortcut);
    warm_up_batch_norm(*model);
    auto q = quantize_model(*model);
    const Agreement a = compare(*model, *q, core::slice(images(), 0, 64, 96));
    const std::string kind =
        shortcut == nn::models::Shortcut::projection ? "projection" : "zero-pad";
    MESSAGE("ResNet-20 (", kind, "): relative error ", a.relative_error, ", argmax agreement ",
            a.argmax_agreement);
    // Measured: 0.003 (projection) and 0.008 (zero-pad), argmax agreement 1.0.
    CHECK(a.relative_error < 0.03);
    CHECK(a.argmax_agreement >= 0.95);
    // Nine residual blocks, and every weight int8.
    int64_t blocks = 0, int8_weights = 0;
    for (auto& [name, m] : q->named_modules()) blocks += m->type_name() == "QuantizedBasicBlock";
    for (auto& [name, t] : q->state_dict())
      if (name.ends_with(".weight")) int8_weights += t.dtype() == kInt8 ? 1 : -1000;
    CHECK(blocks == 9);
    CHECK(int8_weights == (shortcut == nn::models::Shortcut::projection ? 19 + 2 : 19 + 0) + 1);
  }
}

TEST_CASE("convert: ResNet-18's four stages at an eighth of the width") {
  manual_seed(16);
  auto model = nn::models::resnet18({.width = 0.125});
  warm_up_batch_norm(*model);
  auto q = quantize_model(*model);
  const Agreement a = compare(*model, *q, core::slice(images(), 0, 64, 96));
  MESSAGE("ResNet-18: relative error ", a.relative_error, ", argmax agreement ",
          a.argmax_agreement);
  CHECK(a.relative_error < 0.03);  // measured 0.0045, agreement 1.0
  CHECK(a.argmax_agreement >= 0.95);
}

TEST_CASE("convert: after QAT the int8 model computes what the fake-quantized one simulated") {
  for (bool resnet : {false, true}) {
    CAPTURE(resnet);
    manual_seed(15);
    std::shared_ptr<nn::Module> model;
    if (resnet)
      model = nn::models::resnet20({.width = 0.5});
    else
      model = std::make_shared<nn::models::SmallCNN>(nn::models::ModelOptions{.width = 0.25});
    warm_up_batch_norm(*model);
    prepare_qat(*model, {}, batch(0, 2));
    // The fake quantizers' ranges from 4 batches (no weight updates here), then for the ResNet
    // its batch-norm statistics frozen, as a QAT schedule does. The weight fake quantizers saw
    // the folded weights, so convert uses their scales.
    int64_t next = 0;
    calibrate(
        *model,
        [&]() -> std::optional<Tensor> {
          return next < 4 ? std::optional(batch(next++)) : std::nullopt;
        },
        4);
    if (resnet) freeze_batch_norm(*model, batch(0, 2));
    freeze_observers(*model);
    model->eval();
    auto q = convert(*model);
    // The reference is the QAT model itself, fake quantization on. The int8 model differs by
    // the rounding of the float sums and of the requantized activations.
    const Agreement a = compare(*model, *q, core::slice(images(), 0, 64, 96));
    const std::string kind = resnet ? "ResNet-20" : "SmallCNN";
    MESSAGE(kind, " after QAT: relative error to the fake-quantized model ", a.relative_error,
            ", argmax agreement ", a.argmax_agreement);
    CHECK(a.relative_error < 0.03);
    CHECK(a.argmax_agreement >= 0.95);
    // The stem's int8 weight scales are the fake quantizer's.
    const auto& stem = dynamic_cast<const nn::WeightedLayer&>(*model->named_children()[0].second);
    REQUIRE(weight_qparams(stem).has_value());
    Tensor converted;
    for (auto& [name, t] : q->state_dict())
      if (name == "model.conv1.weight_scale") converted = t;
    REQUIRE(converted.defined());
    CHECK(converted.to_vector<float>() == weight_qparams(stem)->scale.to_vector<float>());
  }
}

TEST_CASE("convert: a chain from hand-set qparams fuses conv, batch norm and ReLU") {
  manual_seed(13);
  auto conv = std::make_shared<nn::Conv2d>(3, 4, 3, nn::Conv2dOptions{.padding = 1});
  auto bn = std::make_shared<nn::BatchNorm2d>(4);
  auto relu = std::make_shared<nn::ReLU>();
  auto fc = std::make_shared<nn::Linear>(4 * 4 * 4, 5);
  nn::Sequential model(
      {conv, bn, relu, std::make_shared<nn::MaxPool2d>(2), std::make_shared<nn::Flatten>(), fc});
  warm_up_batch_norm(model, 8);
  const Tensor sliced = core::slice(core::slice(batch(5), 2, 0, 8), 3, 0, 8);
  // Edges: the input in [-1, 1]; the ReLU's output in [0, 4].
  const QParams in =
      choose_qparams(full({1}, -1.0), full({1}, 1.0), QScheme{.dtype = QDType::uint8});
  const QParams act =
      choose_qparams(full({1}, 0.0), full({1}, 4.0), QScheme{.dtype = QDType::uint8});
  QParamsSource source{.output = [&](const nn::Module& m) -> std::optional<QParams> {
                         if (&m == relu.get()) return act;
                         return std::nullopt;
                       },
                       .input = [&](const nn::Module&) -> std::optional<QParams> { return in; },
                       .weight = {}};
  auto q = convert(model, source);
  std::ostringstream os;
  os << *q;
  CHECK(os.str().find("QuantizedConv2d(in_channels=3, out_channels=4") != std::string::npos);
  CHECK(os.str().find("output=(scale=0.0156863, zero_point=0), relu=true") != std::string::npos);
  CHECK(os.str().find("BatchNorm") == std::string::npos);
  // The int8 conv matches conv -> bn -> relu in float to within one output step.
  auto& body = dynamic_cast<nn::Sequential&>(*dynamic_cast<nn::Sequential&>(*q)[1]);
  auto& qconv = dynamic_cast<QuantizedConv2d&>(*body[0]);
  NoGradGuard no_grad;
  const Tensor qx = quantize_uint8(sliced, EdgeQParams::from(in, "test"));
  const Tensor ref = (*relu)((*bn)((*conv)(dequantize_uint8(qx, EdgeQParams::from(in, "test")))));
  const Tensor got = dequantize_uint8(qconv(qx), EdgeQParams::from(act, "test"));
  const auto r = ref.to_vector<double>(), g = got.to_vector<double>();
  double worst = 0;
  for (size_t i = 0; i < r.size(); ++i)
    worst = std::max(worst, std::fabs(std::min(r[i], 4.0) - g[i]));
  // Half a step from the output rounding, plus the int8 weights' error (~0.4% of each sum).
  CHECK(worst < 0.05);
  const Agreement a = compare(model, *q, sliced);
  CHECK(a.relative_error < 0.05);
}

TEST_CASE("convert: Linear, BatchNorm1d and ReLU fuse into one QuantizedLinear") {
  manual_seed(17);
  auto fc1 = std::make_shared<nn::Linear>(3 * 8 * 8, 32);
  nn::Sequential model({std::make_shared<nn::Flatten>(), fc1, std::make_shared<nn::BatchNorm1d>(32),
                        std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(32, 10)});
  const Tensor x = core::slice(core::slice(images(), 2, 0, 8), 3, 0, 8);
  {
    NoGradGuard no_grad;
    model.train();
    for (int64_t i = 0; i < 4; ++i) model(core::slice(x, 0, i * 16, (i + 1) * 16));
  }
  model.eval();
  prepare(model, min_max_config(), core::slice(x, 0, 0, 2));
  int64_t next = 0;
  calibrate(
      model,
      [&]() -> std::optional<Tensor> {
        if (next >= 4) return std::nullopt;
        ++next;
        return core::slice(x, 0, 16 * (next - 1), 16 * next);
      },
      4);
  auto q = convert(model);
  int64_t linears = 0, norms = 0;
  for (auto& [name, m] : q->named_modules()) {
    linears += m->type_name() == "QuantizedLinear";
    norms += m->type_name() == "BatchNorm1d";
  }
  CHECK(linears == 2);
  CHECK(norms == 0);
  const Agreement a = compare(model, *q, core::slice(x, 0, 64, 96));
  MESSAGE("Linear + BatchNorm1d + ReLU: relative error ", a.relative_error);
  CHECK(a.relative_error < 0.03);
}

TEST_CASE("convert: a user's block type joins through register_converter") {
  // A block that doubles its input: in int8 the same bytes at twice the scale.
  struct Double : nn::Module {
    Double() : nn::Module("TestDouble") {}
    Tensor forward(const Tensor& x) override { return core::binary(BinaryOp::mul, x, 2.0); }
  };
  auto fc = std::make_shared<nn::Linear>(6, 3);
  nn::Sequential model({std::make_shared<Double>(), fc});
  model.eval();
  const QParams in =
      choose_qparams(full({1}, -1.0), full({1}, 1.0), QScheme{.dtype = QDType::uint8});
  QParamsSource source{.output = [](const nn::Module&) { return std::optional<QParams>(); },
                       .input = [&](const nn::Module&) -> std::optional<QParams> { return in; },
                       .weight = {}};
  CHECK(error_of([&] { convert(model, source); }) ==
        "convert: no converter for module type 'TestDouble' (at '0'); register one with "
        "quant::register_converter");
  register_converter("TestDouble",
                     [](nn::Module&, const std::string&, const EdgeQParams& e, bool,
                        ConvertContext&) -> Converted {
                       EdgeQParams doubled = e;
                       doubled.scale *= 2;
                       return {std::make_shared<nn::Identity>(), doubled};
                     });
  CHECK(has_converter("TestDouble"));
  auto q = convert(model, source);
  manual_seed(14);
  const Tensor x = core::binary(BinaryOp::mul, rand({4, 6}), 0.9);
  const Agreement a = compare(model, *q, x);
  CHECK(a.relative_error < 0.02);
}

TEST_CASE("convert: errors name the module and what is missing") {
  nn::models::SmallCNN model({.width = 0.25});
  CHECK(error_of([&] { convert(model); }).starts_with("convert: the model is not prepared"));
  const QParams in =
      choose_qparams(full({1}, -1.0), full({1}, 1.0), QScheme{.dtype = QDType::uint8});
  QParamsSource no_outputs{.output = [](const nn::Module&) { return std::optional<QParams>(); },
                           .input = [&](const nn::Module&) -> std::optional<QParams> { return in; },
                           .weight = {}};
  CHECK(error_of([&] { convert(model, no_outputs); }) ==
        "convert: no output qparams for 'act1' (ReLU); prepare and calibrate the model first");
  nn::Sequential gelu({std::make_shared<nn::Linear>(4, 4), std::make_shared<nn::GELU>(),
                       std::make_shared<nn::Linear>(4, 2)});
  QParamsSource all{.output = [&](const nn::Module&) -> std::optional<QParams> { return in; },
                    .input = [&](const nn::Module&) -> std::optional<QParams> { return in; },
                    .weight = {}};
  CHECK(error_of([&] { convert(gelu, all); }) ==
        "convert: no converter for module type 'GELU' (at '1'); register one with "
        "quant::register_converter");
  nn::Sequential lone_relu({std::make_shared<nn::MaxPool2d>(2), std::make_shared<nn::ReLU>()});
  CHECK(error_of([&] { convert(lone_relu, all); }) ==
        "convert: ReLU '1' does not follow a Conv2d or Linear, so it cannot be fused into one");
}
