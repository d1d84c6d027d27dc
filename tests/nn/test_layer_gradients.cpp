// Every layer, activation and loss from one table, in float64: the full Jacobian w.r.t. the
// input (gradcheck), the gradient of the gradient (gradgradcheck), and the gradient w.r.t.
// every parameter element against central differences. Adding a layer's check is one row.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <string>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "core/creation.h"
#include "core/generator.h"
#include "nn/activation.h"
#include "nn/containers.h"
#include "nn/conv.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/loss.h"
#include "nn/normalization.h"
#include "nn/pooling.h"

using namespace nabla;
using nn::Module;

namespace {

struct LayerCase {
  std::string name;
  std::function<std::shared_ptr<Module>()> make;
  Shape input_shape;
  bool train = true;
  // Layers that draw random numbers are reseeded before every call, so every evaluation of the
  // finite differences sees the same mask.
  bool random = false;
  // Int64 ids in [0, id_range) instead of a real input (Embedding): no input gradient.
  int64_t id_range = 0;
  bool gradgrad = true;
  // Parameter elements that by design receive no gradient (an Embedding's padding row).
  int64_t leading_elements_without_gradient = 0;
};

template <class M, class... Args>
std::function<std::shared_ptr<Module>()> make(Args... args) {
  return [=] { return std::make_shared<M>(args...); };
}

std::vector<LayerCase> layer_table() {
  using nn::Conv2dOptions;
  return {
      {"Linear", make<nn::Linear>(5, 3), {4, 5}},
      {"Linear no bias, 3-d input", make<nn::Linear>(4, 2, false), {2, 3, 4}},
      {"Conv2d", make<nn::Conv2d>(2, 3, 3, Conv2dOptions{}), {2, 2, 5, 5}},
      {"Conv2d stride padding dilation",
       make<nn::Conv2d>(2, 2, 3, Conv2dOptions{.stride = 2, .padding = 2, .dilation = 2}),
       {1, 2, 6, 6}},
      {"Conv2d groups no bias",
       make<nn::Conv2d>(4, 2, 3, Conv2dOptions{.padding = 1, .groups = 2, .bias = false}),
       {2, 4, 4, 4}},
      {"MaxPool2d", make<nn::MaxPool2d>(2, nn::Pool2dOptions{}), {2, 2, 4, 4}},
      {"MaxPool2d overlapping padded",
       make<nn::MaxPool2d>(3, nn::Pool2dOptions{.stride = 2, .padding = 1}),
       {1, 2, 5, 5}},
      {"AvgPool2d", make<nn::AvgPool2d>(2, nn::Pool2dOptions{}), {2, 2, 4, 4}},
      {"AvgPool2d exclude pad",
       make<nn::AvgPool2d>(
           3, nn::Pool2dOptions{.stride = 2, .padding = 1, .count_include_pad = false}),
       {1, 2, 5, 5}},
      {"AdaptiveAvgPool2d global", make<nn::AdaptiveAvgPool2d>(1), {2, 3, 4, 4}},
      {"AdaptiveAvgPool2d uneven", make<nn::AdaptiveAvgPool2d>(2, 3), {1, 2, 5, 5}},
      {"Flatten", make<nn::Flatten>(), {2, 3, 2, 2}},
      {"BatchNorm1d train", make<nn::BatchNorm1d>(3), {6, 3}},
      {"BatchNorm1d train 3-d", make<nn::BatchNorm1d>(2), {3, 2, 4}},
      {"BatchNorm2d train", make<nn::BatchNorm2d>(3), {2, 3, 3, 3}},
      {"BatchNorm2d eval", make<nn::BatchNorm2d>(3), {2, 3, 3, 3}, false},
      {"BatchNorm2d no affine",
       make<nn::BatchNorm2d>(2, nn::BatchNormOptions{.affine = false}),
       {3, 2, 2, 2}},
      {"LayerNorm", make<nn::LayerNorm>(Shape{4}), {3, 4}},
      {"LayerNorm 2 dims", make<nn::LayerNorm>(Shape{2, 3}), {2, 2, 3}},
      {"GroupNorm", make<nn::GroupNorm>(2, 4), {2, 4, 2, 3}},
      {"Dropout train", make<nn::Dropout>(0.4), {4, 5}, true, true},
      {"Dropout eval", make<nn::Dropout>(0.4), {4, 5}, false},
      {"Dropout2d train", make<nn::Dropout2d>(0.5), {3, 4, 2, 2}, true, true},
      {"DropConnect Linear",
       [] { return std::make_shared<nn::DropConnect>(std::make_shared<nn::Linear>(4, 3), 0.3); },
       {5, 4},
       true,
       true},
      {"DropConnect Conv2d",
       [] {
         return std::make_shared<nn::DropConnect>(
             std::make_shared<nn::Conv2d>(2, 2, 3, Conv2dOptions{.padding = 1}), 0.3);
       },
       {1, 2, 3, 3},
       true,
       true},
      {"Embedding", make<nn::Embedding>(6, 3), {2, 4}, true, false, 6},
      {"Embedding padding", make<nn::Embedding>(6, 3, 0), {2, 4}, true, false, 6, true, 3},
      {"Identity", make<nn::Identity>(), {3, 2}},
      {"ReLU", make<nn::ReLU>(), {3, 4}},
      {"LeakyReLU", make<nn::LeakyReLU>(0.2), {3, 4}},
      {"ELU", make<nn::ELU>(1.5), {3, 4}},
      {"GELU", make<nn::GELU>(), {3, 4}},
      {"GELU tanh", make<nn::GELU>(nn::GeluApproximation::tanh), {3, 4}},
      {"SiLU", make<nn::SiLU>(), {3, 4}},
      {"Mish", make<nn::Mish>(), {3, 4}},
      {"Tanh", make<nn::Tanh>(), {3, 4}},
      {"Sigmoid", make<nn::Sigmoid>(), {3, 4}},
      {"Softplus", make<nn::Softplus>(2.0, 1.5), {3, 4}},
      {"Softmax", make<nn::Softmax>(1), {3, 4}},
      {"LogSoftmax", make<nn::LogSoftmax>(0), {3, 4}},
      {"Sequential",
       [] {
         return nn::sequential({std::make_shared<nn::Linear>(3, 4), std::make_shared<nn::GELU>(),
                                std::make_shared<nn::LayerNorm>(Shape{4}),
                                std::make_shared<nn::Linear>(4, 2)});
       },
       {3, 3}},
  };
}

Tensor make_input(const LayerCase& c) {
  if (c.id_range > 0) return randint(0, c.id_range, c.input_shape);
  // Spread out and away from 0, so that kinks (ReLU, max pooling ties) are not straddled.
  Tensor x = randn(c.input_shape, {.dtype = kFloat64});
  return add(x, mul(sign(x), 0.1));
}

Tensor run(Module& module, const LayerCase& c, const Tensor& x) {
  if (c.random) manual_seed(1234);
  return module(x);
}

// d<R, f(x)>/d(theta) for every parameter element, by backward and by central differences on
// the module's own parameter data.
void check_parameter_gradients(Module& module, const LayerCase& c, const Tensor& x) {
  if (module.parameters().empty()) return;
  Tensor projection = randn(run(module, c, x).shape(), {.dtype = kFloat64});
  auto objective = [&] { return sum(mul(run(module, c, x), projection)); };
  module.zero_grad();
  backward(objective());
  const double eps = 1e-6;
  // Plain names rather than structured bindings: INFO captures them in a lambda.
  for (const auto& entry : module.named_parameters()) {
    const std::string& name = entry.first;
    const Tensor& p = entry.second;
    REQUIRE(p.grad().defined());
    std::vector<double> analytical = p.grad().to_vector<double>();
    double* data = p.data<double>();
    NoGradGuard no_grad;
    for (int64_t j = 0; j < p.numel(); ++j) {
      if (j < c.leading_elements_without_gradient) {
        INFO(c.name, ": parameter ", name, "[", j, "] must get no gradient");
        CHECK(analytical[j] == 0);
        continue;
      }
      const double original = data[j];
      data[j] = original + eps;
      double plus = objective().item();
      data[j] = original - eps;
      double minus = objective().item();
      data[j] = original;
      double numerical = (plus - minus) / (2 * eps);
      INFO(c.name, ": parameter ", name, "[", j, "]");
      CHECK(std::abs(analytical[j] - numerical) <= 1e-5 + 1e-4 * std::abs(numerical));
    }
  }
}

}  // namespace

TEST_CASE("layers: gradients w.r.t. input and parameters match finite differences (float64)") {
  for (const LayerCase& c : layer_table()) {
    SUBCASE(c.name.c_str()) {
      manual_seed(7);
      std::shared_ptr<Module> module = c.make();
      module->to(kFloat64);
      module->train(c.train);
      Tensor x = make_input(c);
      if (c.id_range == 0) {
        auto f = [&](const std::vector<Tensor>& in) { return run(*module, c, in[0]); };
        x.requires_grad_();
        autograd::GradcheckResult first = autograd::gradcheck(f, {x});
        INFO(c.name, ": ", first.message);
        CHECK(first.ok);
        if (c.gradgrad) {
          autograd::GradcheckResult second = autograd::gradgradcheck(f, {x});
          INFO(c.name, " (gradgradcheck): ", second.message);
          CHECK(second.ok);
        }
        x = detach(x);
      }
      check_parameter_gradients(*module, c, x);
    }
  }
}

namespace {

struct LossCase {
  std::string name;
  std::function<Tensor(const Tensor& input)> loss;  // of a float64 input [4, 5]
};

std::vector<LossCase> loss_table() {
  const Tensor labels = from_vector<int64_t>({1, 0, 4, 2});
  const Tensor labels_ignored = from_vector<int64_t>({1, -100, 4, 2});
  const Tensor class_weight = from_vector<double>({0.5, 1.0, 2.0, 1.5, 0.25});
  const Tensor soft = softmax(randn({4, 5}, {.dtype = kFloat64}), 1);
  const Tensor target = randn({4, 5}, {.dtype = kFloat64});
  const Tensor binary = rand({4, 5}, {.dtype = kFloat64});
  const Tensor pos_weight = from_vector<double>({1.0, 2.0, 0.5, 3.0, 1.0});
  using nn::Reduction;
  return {
      {"cross_entropy", [=](const Tensor& x) { return nn::cross_entropy(x, labels); }},
      {"cross_entropy weights ignore smoothing sum",
       [=](const Tensor& x) {
         return nn::cross_entropy(
             x, labels_ignored,
             {.weight = class_weight, .label_smoothing = 0.1, .reduction = Reduction::sum});
       }},
      {"cross_entropy weights smoothing mean",
       [=](const Tensor& x) {
         return nn::cross_entropy(x, labels_ignored,
                                  {.weight = class_weight, .label_smoothing = 0.2});
       }},
      {"cross_entropy none",
       [=](const Tensor& x) {
         return nn::cross_entropy(x, labels, {.reduction = Reduction::none});
       }},
      {"cross_entropy probabilities",
       [=](const Tensor& x) { return nn::cross_entropy(x, soft, {.label_smoothing = 0.1}); }},
      {"cross_entropy spatial",
       [=](const Tensor& x) {
         return nn::cross_entropy(reshape(x, {2, 5, 2}),
                                  from_vector<int64_t>({1, 3, 0, 4}, {2, 2}));
       }},
      {"nll_loss",
       [=](const Tensor& x) {
         return nn::nll_loss(log_softmax(x, 1), labels_ignored, {.weight = class_weight});
       }},
      {"mse_loss", [=](const Tensor& x) { return nn::mse_loss(x, target); }},
      {"l1_loss sum", [=](const Tensor& x) { return nn::l1_loss(x, target, Reduction::sum); }},
      {"huber_loss", [=](const Tensor& x) { return nn::huber_loss(x, target, 0.7); }},
      {"smooth_l1_loss none",
       [=](const Tensor& x) { return nn::smooth_l1_loss(x, target, 0.5, Reduction::none); }},
      {"binary_cross_entropy_with_logits",
       [=](const Tensor& x) {
         return nn::binary_cross_entropy_with_logits(x, binary, {.pos_weight = pos_weight});
       }},
      {"kl_div batchmean",
       [=](const Tensor& x) { return nn::kl_div(log_softmax(x, 1), soft, Reduction::batchmean); }},
      {"kl_div log_target",
       [=](const Tensor& x) {
         return nn::kl_div(log_softmax(x, 1), log(soft), Reduction::sum, true);
       }},
      {"l1_penalty",
       [=](const Tensor& x) {
         return nn::l1_penalty({x, mul(x, 2.0)});
       }},
      {"l2_penalty", [=](const Tensor& x) { return nn::l2_penalty({x}); }},
  };
}

}  // namespace

TEST_CASE("losses: gradcheck and gradgradcheck (float64)") {
  manual_seed(11);
  for (const LossCase& c : loss_table()) {
    SUBCASE(c.name.c_str()) {
      Tensor x = randn({4, 5}, {.dtype = kFloat64});
      x = add(x, mul(sign(x), 0.05)).requires_grad_();
      auto f = [&](const std::vector<Tensor>& in) { return c.loss(in[0]); };
      autograd::GradcheckResult first = autograd::gradcheck(f, {x});
      INFO(c.name, ": ", first.message);
      CHECK(first.ok);
      autograd::GradcheckResult second = autograd::gradgradcheck(f, {x});
      INFO(c.name, " (gradgradcheck): ", second.message);
      CHECK(second.ok);
    }
  }
}

TEST_CASE("layers: a state dict loaded into a fresh layer reproduces its outputs") {
  for (const LayerCase& c : layer_table()) {
    SUBCASE(c.name.c_str()) {
      manual_seed(21);
      std::shared_ptr<Module> trained = c.make();
      Tensor x = make_input(c);
      if (c.id_range == 0) x = to(x, kFloat32);
      run(*trained, c, x);  // training mode: moves BatchNorm's running statistics
      manual_seed(22);
      std::shared_ptr<Module> fresh = c.make();
      nn::LoadReport report = fresh->load_state_dict(trained->state_dict());
      CHECK(report.ok());
      trained->eval();
      fresh->eval();
      CHECK(run(*trained, c, x).to_vector<float>() == run(*fresh, c, x).to_vector<float>());
    }
  }
}
