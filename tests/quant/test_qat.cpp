// Quantization-aware training: the fake-quantized forward recomputed by hand, gradients to the
// weights (straight-through) and to LSQ's scales, a few SGD steps on Fashion-MNIST, frozen
// observers, and batch-norm freezing during training.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "core/creation.h"
#include "core/generator.h"
#include "core/ops.h"
#include "data/idx.h"
#include "nn/activation.h"
#include "nn/containers.h"
#include "nn/conv.h"
#include "nn/linear.h"
#include "nn/loss.h"
#include "nn/normalization.h"
#include "quant/fake_quantize.h"
#include "quant/fold.h"
#include "quant/qat.h"
#include "quant/quantized_weight.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::quant;
using testing::error_of;
using testing::values;

namespace {

// Linear(4, 3) -> ReLU -> Linear(3, 2).
std::shared_ptr<nn::Sequential> two_layers() {
  return nn::sequential({std::make_shared<nn::Linear>(4, 3), std::make_shared<nn::ReLU>(),
                         std::make_shared<nn::Linear>(3, 2)});
}

QatConfig min_max_qat() {
  QatConfig config;
  config.quant.activation_observer = ObserverKind::min_max;
  return config;
}

// fake_quantize with the qparams min-max gives x (per tensor, or per row of a weight).
Tensor fake_quantize_min_max(const Tensor& x, const QScheme& scheme) {
  Tensor lo = scheme.per_channel() ? amin(x, {1}) : reshape(amin(x), {1});
  Tensor hi = scheme.per_channel() ? amax(x, {1}) : reshape(amax(x), {1});
  return fake_quantize(x, choose_qparams(lo, hi, scheme));
}

Tensor linear_of(const Tensor& x, const Tensor& w, const Tensor& b) {
  return add(matmul(x, transpose(w, 0, 1)), b);
}

double relative_error(const Tensor& a, const Tensor& b) {
  return amax(abs(sub(a, b))).item<double>() / amax(abs(b)).item<double>();
}

void sgd_step(nn::Module& model, double lr) {
  NoGradGuard no_grad;
  for (const Tensor& p : model.parameters()) {
    if (p.grad().defined()) add_(p, p.grad(), -lr);
  }
  model.zero_grad();
}

}  // namespace

TEST_CASE("prepare_qat: the output is fake_quantize at every point, recomputed by hand") {
  manual_seed(31);
  auto model = two_layers();
  prepare_qat(*model, min_max_qat());
  auto& fc1 = dynamic_cast<nn::Linear&>(*(*model)[0]);
  auto& fc2 = dynamic_cast<nn::Linear&>(*(*model)[2]);
  Tensor x = randn({5, 4});
  Tensor y = (*model)(x);

  const QuantConfig& quant = config_of(*model);
  const QScheme& act = quant.activation.scheme;
  const QScheme& weight = quant.weight.scheme;
  Tensor xq = fake_quantize_min_max(x, act);
  Tensor h = fake_quantize_min_max(
      linear_of(xq, fake_quantize_min_max(fc1.weight(), weight), fc1.bias()), act);
  Tensor r = fake_quantize_min_max(relu(h), act);
  Tensor expected = fake_quantize_min_max(
      linear_of(r, fake_quantize_min_max(fc2.weight(), weight), fc2.bias()), act);
  testing::check_close(y, values(expected), 1e-5);
  // Fake quantization changed something: the float model differs.
  CHECK(relative_error(
            linear_of(relu(linear_of(x, fc1.weight(), fc1.bias())), fc2.weight(), fc2.bias()), y) >
        1e-4);

  // The qparams convert reads: per-channel weights, per-tensor activations. A weight whose
  // observer still follows it has none of its own (convert computes them from the final
  // weight); frozen, the ones training used.
  CHECK_FALSE(weight_qparams(fc1));
  freeze_observers(*model);
  std::optional<QParams> w1 = weight_qparams(fc1);
  REQUIRE(w1);
  CHECK(w1->channels() == 3);
  CHECK(values(w1->scale) ==
        values(choose_qparams(amin(fc1.weight(), {1}), amax(fc1.weight(), {1}), weight).scale));
  REQUIRE(output_qparams(fc2));
  CHECK(output_qparams(fc2)->scale.item<double>() ==
        choose_qparams(reshape(amin(expected), {1}), reshape(amax(expected), {1}), act)
            .scale.item<double>());
  REQUIRE(input_qparams(*model));
  CHECK(error_of([&] { prepare_qat(*model); }).starts_with("prepare_qat: Sequential is already"));

  // unprepare gives the float model back.
  unprepare(*model);
  CHECK_FALSE(fc1.has_weight_transform());
  testing::check_close(
      (*model)(x),
      values(linear_of(relu(linear_of(x, fc1.weight(), fc1.bias())), fc2.weight(), fc2.bias())),
      1e-5);
}

TEST_CASE("QAT gradients: straight-through to the weights, LSQ scales learn") {
  manual_seed(32);
  auto model = two_layers();
  prepare_qat(*model, min_max_qat());
  Tensor x = randn({8, 4});
  backward(sum((*model)((x))));
  auto& fc1 = dynamic_cast<nn::Linear&>(*(*model)[0]);
  REQUIRE(fc1.weight().grad().defined());
  CHECK(amax(abs(fc1.weight().grad())).item<double>() > 0);

  auto lsq = two_layers();
  QatConfig config = min_max_qat();
  config.learnable = true;
  prepare_qat(*lsq, config);
  std::set<std::string> scales;
  for (auto& [name, p] : lsq->named_parameters()) {
    if (name.ends_with(".scale")) scales.insert(name);
  }
  CHECK(scales == std::set<std::string>{"0.output_fake_quant.scale", "0.weight_fake_quant.scale",
                                        "1.output_fake_quant.scale", "2.output_fake_quant.scale",
                                        "2.weight_fake_quant.scale", "input_fake_quant.scale"});
  // The first forward initializes the scales from the observers; frozen, they train.
  (*lsq)(x);
  freeze_observers(*lsq);
  lsq->zero_grad();
  backward(sum(square((*lsq)(x))));
  for (auto& [name, p] : lsq->named_parameters()) {
    if (!scales.count(name)) continue;
    INFO(name);
    REQUIRE(p.grad().defined());
    CHECK(amax(abs(p.grad())).item<double>() > 0);
  }
  auto& lsq_fc2 = dynamic_cast<nn::Linear&>(*(*lsq)[2]);
  CHECK(weight_qparams(lsq_fc2)->channels() == 2);
}

TEST_CASE("QAT on Fashion-MNIST: SGD steps reduce the loss, with fixed and learned scales") {
  const std::filesystem::path dir = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(dir)) {
    MESSAGE("Fashion-MNIST not found; skipped");
    return;
  }
  data::LabeledImages test = data::read_fashion_mnist(dir, data::Split::test);
  // The first 256 images, scaled to [0, 1] and flattened.
  Tensor images =
      reshape(div(core::to(slice(test.images, 0, 0, 256), kFloat32), 255.0), {256, 784});
  Tensor labels = slice(test.labels, 0, 0, 256);
  for (bool learnable : {false, true}) {
    INFO("learnable ", learnable);
    manual_seed(33);
    auto model =
        nn::sequential({std::make_shared<nn::Linear>(784, 32), std::make_shared<nn::ReLU>(),
                        std::make_shared<nn::Linear>(32, 10)});
    // QAT fine-tunes a trained float model, as in practice: 20 float steps first.
    double float_loss = 0;
    for (int64_t step = 0; step < 20; ++step) {
      Tensor loss = nn::cross_entropy((*model)(images), labels);
      float_loss = loss.item<double>();
      backward(loss);
      sgd_step(*model, 0.5);
    }
    QatConfig config;
    config.learnable = learnable;
    prepare_qat(*model, config);
    // LSQ learns its scales once the observers stop overwriting them (after the first step's
    // initialization), with a smaller step; fixed scales follow the activations with moving
    // averages for a while.
    QatSchedule schedule{.observer_freeze_epoch = learnable ? 1 : 20};
    double first = 0, last = 0;
    for (int64_t step = 0; step < 30; ++step) {
      schedule.on_epoch_start(*model, step, images);
      Tensor loss = nn::cross_entropy((*model)(images), labels);
      // From step 1 on, LSQ's scales are its own (step 0 took them from the observers).
      if (step == 1) first = loss.item<double>();
      last = loss.item<double>();
      backward(loss);
      sgd_step(*model, learnable ? 0.1 : 0.5);
    }
    MESSAGE("learnable ", learnable, ": float loss ", float_loss, ", QAT loss ", first, " -> ",
            last);
    CHECK(schedule.observers_frozen);
    // Training goes on under fake quantization: 30 steps take the loss a quarter below where
    // float training left it (the first QAT step's loss depends on how much quantization cost,
    // so it is no baseline).
    CHECK(last < first);
    CHECK(last < 0.75 * float_loss);
  }
}

TEST_CASE("freeze_observers: qparams stay fixed while fake quantization goes on") {
  manual_seed(34);
  auto model = two_layers();
  prepare_qat(*model);
  (*model)(randn({8, 4}));
  auto& act = *(*model)[1];
  QParams before = *output_qparams(act);
  freeze_observers(*model);
  Tensor wide = mul(randn({8, 4}), 10.0);
  Tensor y = (*model)(wide);
  QParams after = *output_qparams(act);
  CHECK(values(after.scale) == values(before.scale));
  CHECK(values(after.zero_point) == values(before.zero_point));
  // Still fake-quantized: the output lies on its point's grid, clipped at the frozen range.
  QParams out = *output_qparams(*(*model)[2]);
  double scale = out.scale.item<double>();
  double zp = static_cast<double>(out.zero_point.item<int64_t>());
  for (double v : values(y)) {
    double q = v / scale + zp;
    CHECK(std::abs(q - std::nearbyint(q)) < 1e-3);
    CHECK(q <= out.scheme.qmax() + 1e-3);
  }
  // Observing again, the input's range moves toward the wide batch's (later points see
  // activations clipped at the ranges before them, which hardly move in one step).
  double input_scale = input_qparams(*model)->scale.item<double>();
  freeze_observers(*model, false);
  (*model)(wide);
  CHECK(input_qparams(*model)->scale.item<double>() > input_scale);
}

namespace {

// Conv(3, 4) -> BatchNorm2d -> ReLU -> Flatten -> Linear(64, 3), with 5 SGD steps on shifted
// noise, so that the batch norm has statistics and a gamma of its own.
std::shared_ptr<nn::Sequential> conv_bn_net() {
  auto model =
      nn::sequential({std::make_shared<nn::Conv2d>(3, 4, 3, nn::Conv2dOptions{.padding = 1}),
                      std::make_shared<nn::BatchNorm2d>(4), std::make_shared<nn::ReLU>(),
                      std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(64, 3)});
  for (int i = 0; i < 5; ++i) {
    Tensor loss = sum(square((*model)(add(mul(randn({6, 3, 4, 4}), 2.0), 1.0))));
    backward(loss);
    sgd_step(*model, 1e-2);
  }
  return model;
}

// The per-channel scales convert gives the conv's weight with the batch norm folded in.
std::vector<double> folded_weight_scales(const nn::Conv2d& conv, const nn::BatchNorm& bn) {
  return values(quantize_weight_per_channel(fold_conv_bn(conv, bn).weight).scale);
}

}  // namespace

TEST_CASE("prepare_qat with an example input fake-quantizes the folded weight of a conv -> bn") {
  manual_seed(36);
  auto model = conv_bn_net();
  auto& conv = dynamic_cast<nn::Conv2d&>(*(*model)[0]);
  auto& bn = dynamic_cast<nn::BatchNorm&>(*(*model)[1]);
  prepare_qat(*model, {}, randn({2, 3, 4, 4}));
  model->eval();
  Tensor x = randn({6, 3, 4, 4});
  Tensor y = (*model)(x);
  freeze_observers(*model);
  // The weight fake quantizer saw w * gamma / sqrt(var + eps): the weight int8 inference holds.
  REQUIRE(weight_qparams(conv).has_value());
  testing::check_close(weight_qparams(conv)->scale, folded_weight_scales(conv, bn), 1e-6);
  // By hand: the folded weight rounded to its scales, divided back, then the batch norm.
  {
    NoGradGuard no_grad;
    FoldedConv folded = fold_conv_bn(conv, bn);
    const QuantizedWeight q = quantize_weight_per_channel(folded.weight);
    Tensor factor = div(folded.weight, conv.weight());
    Tensor expected = div(dequantize_weight(q.weight, q.scale), factor);
    CHECK(relative_error(conv.effective_weight(), expected) < 1e-6);
  }
  // Gradients reach the stored weight and both batch-norm parameters, which train as in float.
  model->train();
  backward(sum(square((*model)(x))));
  REQUIRE(conv.weight().grad().defined());
  REQUIRE(bn.weight().grad().defined());
  REQUIRE(bn.bias().grad().defined());
  CHECK(amax(abs(conv.weight().grad())).item<double>() > 0);
  CHECK(amax(abs(bn.weight().grad())).item<double>() > 0);
  CHECK(y.shape() == Shape{6, 3});
}

TEST_CASE("freeze_batch_norm: statistics fixed, weights unchanged, the fold simulated after") {
  manual_seed(35);
  auto model = conv_bn_net();
  prepare_qat(*model);
  auto& conv = dynamic_cast<nn::Conv2d&>(*(*model)[0]);
  auto& bn = dynamic_cast<nn::BatchNorm&>(*(*model)[1]);
  Tensor x = randn({6, 3, 4, 4});
  (*model)(x);
  auto set_fake_quant = [&](bool on) {
    for (auto& [name, module] : model->named_modules()) {
      if (auto* fq = dynamic_cast<FakeQuantize*>(module)) fq->enable_fake_quant(on);
    }
  };
  auto eval_output = [&] {
    NoGradGuard no_grad;
    model->eval();
    Tensor y = (*model)(x);
    model->train();
    return y;
  };
  freeze_observers(*model);
  set_fake_quant(false);
  Tensor float_before = eval_output();
  set_fake_quant(true);
  Tensor quant_before = eval_output();
  const std::vector<double> weight_before = values(conv.weight());

  QatSchedule schedule{.bn_freeze_epoch = 2};
  schedule.on_epoch_start(*model, 1, x);
  CHECK_FALSE(bn.statistics_frozen());
  schedule.on_epoch_start(*model, 2, x);
  CHECK(bn.statistics_frozen());
  CHECK(values(conv.weight()) == weight_before);
  // Prepared without an example input, the conv quantized its own weight; now the folded one,
  // with scales re-observed although the observers are frozen.
  testing::check_close(weight_qparams(conv)->scale, folded_weight_scales(conv, bn), 1e-6);
  auto& conv_output_fq = dynamic_cast<FakeQuantize&>(*conv.named_children()[0].second);
  CHECK_FALSE(conv_output_fq.fake_quant_enabled());

  // Float: unchanged up to the rounding of w * f / f. Fake-quantized: the folded weights round
  // differently, and the conv output is no longer quantized on its own.
  set_fake_quant(false);
  CHECK(relative_error(eval_output(), float_before) < 1e-6);
  set_fake_quant(true);
  conv_output_fq.enable_fake_quant(false);
  double moved = relative_error(eval_output(), quant_before);
  MESSAGE("fake-quantized eval output moved by ", moved, " of its scale");
  CHECK(moved < 0.1);

  // Training on: the statistics stay, gradients reach the conv and both batch-norm parameters.
  Tensor mean = clone(bn.running_mean()), var = clone(bn.running_var());
  Tensor loss = sum(square((*model)(randn({6, 3, 4, 4}))));
  backward(loss);
  CHECK(values(bn.running_mean()) == values(mean));
  CHECK(values(bn.running_var()) == values(var));
  REQUIRE(conv.weight().grad().defined());
  REQUIRE(bn.weight().grad().defined());
  REQUIRE(bn.bias().grad().defined());

  auto plain = two_layers();
  CHECK(error_of([&] {
          freeze_batch_norm(*plain, randn({1, 4}));
        }) ==
        "freeze_batch_norm: Sequential was not prepared for QAT (call quant::prepare_qat first)");
}
