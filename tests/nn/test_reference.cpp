// Losses, activations and normalization against values recorded from PyTorch 1.13 by
// tests/reference/nn_reference.py (float64): forward values and input gradients to 1e-10.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "core/creation.h"
#include "nn/activation.h"
#include "nn/loss.h"
#include "nn/normalization.h"
#include "nn/pooling.h"

using namespace nabla;
using json = nlohmann::json;

namespace {

const json& reference() {
  static const json data = [] {
    auto path = std::filesystem::path(__FILE__).parent_path().parent_path() / "reference" /
                "nn_reference.json";
    std::ifstream in(path);
    REQUIRE_MESSAGE(in.good(), "cannot open ", path.string());
    return json::parse(in);
  }();
  return data;
}

Tensor tensor_of(const json& values, const json& shape) {
  return from_vector(values.get<std::vector<double>>(), shape.get<Shape>());
}

Tensor labels_of(const json& c) {
  std::vector<double> raw = c["target"].get<std::vector<double>>();
  std::vector<int64_t> labels(raw.begin(), raw.end());
  return from_vector(labels, c["target_shape"].get<Shape>());
}

void check_values(const Tensor& got, const json& expected, const std::string& what) {
  std::vector<double> g = got.to_vector<double>();
  std::vector<double> e = expected.get<std::vector<double>>();
  REQUIRE_MESSAGE(g.size() == e.size(), what);
  for (size_t i = 0; i < g.size(); ++i) {
    INFO(what, "[", i, "]");
    CHECK(g[i] == doctest::Approx(e[i]).epsilon(1e-10).scale(1));
  }
}

// Runs fn on the recorded input and compares the output and d(sum output)/d(input).
void check_case(const json& c, const std::string& name,
                const std::function<Tensor(const Tensor&)>& fn) {
  Tensor x = tensor_of(c["input"], c["input_shape"]).requires_grad_();
  Tensor y = fn(x);
  CHECK(y.shape() == c["output_shape"].get<Shape>());
  check_values(y, c["output"], name + " output");
  backward(sum(y));
  check_values(x.grad(), c["grad"], name + " grad");
}

nn::Reduction reduction_of(const json& options) {
  std::string r = options.value("reduction", "mean");
  if (r == "sum") return nn::Reduction::sum;
  if (r == "none") return nn::Reduction::none;
  if (r == "batchmean") return nn::Reduction::batchmean;
  return nn::Reduction::mean;
}

Tensor optional_tensor(const json& options, const char* key) {
  if (!options.contains(key)) return {};
  auto v = options[key].get<std::vector<double>>();
  return from_vector(v);
}

}  // namespace

TEST_CASE("losses match PyTorch") {
  for (const auto& item : reference()["losses"].items()) {
    const std::string& name = item.key();
    const json& c = item.value();
    const json& options = c["options"];
    const nn::Reduction reduction = reduction_of(options);
    Tensor target = tensor_of(c["target"], c["target_shape"]);
    std::function<Tensor(const Tensor&)> fn;
    if (name.starts_with("cross_entropy")) {
      nn::CrossEntropyOptions o{.weight = optional_tensor(options, "weight"),
                                .label_smoothing = options.value("label_smoothing", 0.0),
                                .reduction = reduction};
      Tensor t = name.find("probabilities") != std::string::npos ? target : labels_of(c);
      fn = [=](const Tensor& x) { return nn::cross_entropy(x, t, o); };
    } else if (name.starts_with("nll_loss")) {
      nn::NllOptions o{.weight = optional_tensor(options, "weight"), .reduction = reduction};
      Tensor t = labels_of(c);
      fn = [=](const Tensor& x) { return nn::nll_loss(x, t, o); };
    } else if (name.starts_with("mse_loss")) {
      fn = [=](const Tensor& x) { return nn::mse_loss(x, target, reduction); };
    } else if (name.starts_with("l1_loss")) {
      fn = [=](const Tensor& x) { return nn::l1_loss(x, target, reduction); };
    } else if (name.starts_with("huber_loss")) {
      double delta = options["delta"];
      fn = [=](const Tensor& x) { return nn::huber_loss(x, target, delta, reduction); };
    } else if (name.starts_with("smooth_l1_loss")) {
      double beta = options["beta"];
      fn = [=](const Tensor& x) { return nn::smooth_l1_loss(x, target, beta, reduction); };
    } else if (name.starts_with("bce_with_logits")) {
      nn::BceWithLogitsOptions o{.weight = optional_tensor(options, "weight"),
                                 .pos_weight = optional_tensor(options, "pos_weight"),
                                 .reduction = reduction};
      if (o.weight.defined()) o.weight = reshape(o.weight, target.shape());
      fn = [=](const Tensor& x) { return nn::binary_cross_entropy_with_logits(x, target, o); };
    } else if (name.starts_with("kl_div")) {
      bool log_target = options.value("log_target", false);
      fn = [=](const Tensor& x) { return nn::kl_div(x, target, reduction, log_target); };
    }
    REQUIRE_MESSAGE(fn, "no C++ call for the reference case ", name);
    check_case(c, name, fn);
  }
}

TEST_CASE("activations match PyTorch, at 0, in the tails and beyond softplus's threshold") {
  const std::map<std::string, std::function<Tensor(const Tensor&)>> calls = {
      {"relu", [](const Tensor& x) { return relu(x); }},
      {"leaky_relu", [](const Tensor& x) { return nn::leaky_relu(x, 0.2); }},
      {"elu", [](const Tensor& x) { return nn::elu(x, 1.5); }},
      {"gelu", [](const Tensor& x) { return nn::gelu(x); }},
      {"gelu_tanh", [](const Tensor& x) { return nn::gelu(x, nn::GeluApproximation::tanh); }},
      {"silu", [](const Tensor& x) { return nn::silu(x); }},
      {"mish", [](const Tensor& x) { return nn::mish(x); }},
      {"tanh", [](const Tensor& x) { return tanh(x); }},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }},
      {"softplus", [](const Tensor& x) { return nn::softplus(x); }},
      {"softplus_beta_threshold", [](const Tensor& x) { return nn::softplus(x, 2.0, 5.0); }},
  };
  for (const auto& item : reference()["activations"].items()) {
    const std::string& name = item.key();
    const json& c = item.value();
    REQUIRE_MESSAGE(calls.count(name), "no C++ call for the reference case ", name);
    check_case(c, name, calls.at(name));
  }
}

TEST_CASE("BatchNorm2d running statistics and outputs match PyTorch in train and eval") {
  for (const char* key : {"batchnorm2d_momentum_0.1", "batchnorm2d_momentum_none"}) {
    const json& c = reference()["normalization"][key];
    std::optional<double> momentum;
    if (std::string(key).ends_with("0.1")) momentum = 0.1;
    nn::BatchNorm2d bn(3, {.momentum = momentum});
    bn.to(kFloat64);
    {
      NoGradGuard no_grad;
      copy_(bn.weight(), optional_tensor(c, "weight"));
      copy_(bn.bias(), optional_tensor(c, "bias"));
    }
    for (size_t i = 0; i < c["batches"].size(); ++i) {
      Tensor y = bn(tensor_of(c["batches"][i], c["batch_shape"]));
      check_values(y, c["train_outputs"][i], std::string(key) + " train output");
    }
    check_values(bn.running_mean(), c["running_mean"], std::string(key) + " running_mean");
    check_values(bn.running_var(), c["running_var"], std::string(key) + " running_var");
    CHECK(bn.num_batches_tracked().item<int64_t>() == c["num_batches_tracked"].get<int64_t>());
    bn.eval();
    check_values(bn(tensor_of(c["test"], c["test_shape"])), c["eval_output"],
                 std::string(key) + " eval output");
  }
}

TEST_CASE("LayerNorm, GroupNorm and adaptive average pooling match PyTorch") {
  const json& cases = reference()["normalization"];
  nn::LayerNorm layer(Shape{2, 3});
  nn::GroupNorm group(2, 4);
  for (std::pair<nn::Module*, const char*> entry :
       {std::pair<nn::Module*, const char*>{&layer, "layernorm"}, {&group, "groupnorm"}}) {
    nn::Module* module = entry.first;
    const char* key = entry.second;
    const json& c = cases[key];
    module->to(kFloat64);
    auto params = module->named_parameters();
    {
      NoGradGuard no_grad;
      copy_(params[0].second, reshape(optional_tensor(c, "weight"), params[0].second.shape()));
      copy_(params[1].second, reshape(optional_tensor(c, "bias"), params[1].second.shape()));
    }
    check_case(c, key, [&](const Tensor& x) { return (*module)(x); });
  }
  check_case(cases["adaptive_avg_pool2d"], "adaptive_avg_pool2d",
             [](const Tensor& x) { return nn::adaptive_avg_pool2d(x, 3, 2); });
}
