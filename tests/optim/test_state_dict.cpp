// The driver's promises: state keyed by parameter name (loads after parameters are added, removed
// or reordered, with a report), group options restored, moving state between devices, closure
// counts, skipped non-finite steps, and the checks on parameters.
#include <doctest/doctest.h>

#include <limits>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "core/ops.h"
#include "optim/registry.h"
#include "optim/state_dict.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::testing;

namespace {

Tensor param(std::vector<double> values) { return from_vector<double>(values).requires_grad_(); }

// loss = sum over parameters of sum(p^2 * (index + 1)): every parameter gets a gradient.
optim::Closure quadratic_closure(const optim::NamedTensors& params) {
  return [params] {
    Tensor loss = zeros({}, {.dtype = kFloat64});
    for (size_t i = 0; i < params.size(); ++i)
      loss = loss + sum(square(params[i].second)) * static_cast<double>(i + 1);
    backward(loss);
    return loss;
  };
}

bool same_values(const Tensor& a, const Tensor& b) { return values(a) == values(b); }

}  // namespace

TEST_CASE(
    "state_dict: tensors are named <parameter>.<slot>, the rest is JSON, and they are copies") {
  optim::NamedTensors p = {{"layer1.0.conv1.weight", param({1, 2})}, {"fc.bias", param({3})}};
  auto adam = optim::create("adam", p, {{"lr", 0.1}});
  adam->step(quadratic_closure(p));
  optim::StateDict dict = adam->state_dict();
  std::vector<std::string> names;
  for (const auto& [name, t] : dict.tensors) names.push_back(name);
  CHECK(names == std::vector<std::string>{"layer1.0.conv1.weight.exp_avg",
                                          "layer1.0.conv1.weight.exp_avg_sq", "fc.bias.exp_avg",
                                          "fc.bias.exp_avg_sq"});
  CHECK(dict.json["optimizer"] == "adam");
  CHECK(dict.json["steps"] == 1);
  CHECK(dict.json["state"]["fc.bias"]["step"] == 1);
  CHECK(dict.json["groups"][0]["options"]["lr"] == 0.1);
  CHECK(dict.json["groups"][0]["params"] ==
        nlohmann::json::array({"layer1.0.conv1.weight", "fc.bias"}));
  std::vector<double> saved = values(dict.tensor("fc.bias.exp_avg"));
  adam->step(quadratic_closure(p));
  CHECK(values(dict.tensor("fc.bias.exp_avg")) == saved);
  CHECK(values(adam->state("fc.bias")->find("exp_avg")) != saved);
}

TEST_CASE("state_dict: loads by name after parameters are added, removed and reordered") {
  optim::NamedTensors before = {
      {"fc1.weight", param({1, -2})}, {"fc1.bias", param({0.5})}, {"fc2.weight", param({2, 1})}};
  auto a = optim::create("adamw", before, {{"lr", 0.05}});
  for (int i = 0; i < 3; ++i) a->step(quadratic_closure(before));
  optim::StateDict saved = a->state_dict();

  optim::NamedTensors after = {
      {"fc2.weight", param({2, 1})}, {"fc1.weight", param({1, -2})}, {"head.bias", param({0})}};
  auto b = optim::create("adamw", after, {{"lr", 0.05}});
  CHECK_THROWS_AS(b->load_state_dict(saved, /*strict=*/true), ValueError);
  CHECK(b->state("fc1.weight") == nullptr);  // a failed strict load changes nothing

  optim::LoadReport report = b->load_state_dict(saved);
  CHECK(report.matched == std::vector<std::string>{"fc2.weight", "fc1.weight"});
  CHECK(report.missing == std::vector<std::string>{"head.bias"});
  CHECK(report.unexpected == std::vector<std::string>{"fc1.bias"});
  CHECK(report.mismatched.empty());
  CHECK_FALSE(report.ok());
  CHECK(report.to_string() ==
        "matched 2, missing 1 (head.bias), unexpected 1 (fc1.bias), "
        "mismatched 0");
  REQUIRE(b->state("fc1.weight") != nullptr);
  CHECK(b->state("fc1.weight")->step == 3);
  CHECK(same_values(b->state("fc1.weight")->find("exp_avg"),
                    a->state("fc1.weight")->find("exp_avg")));
  CHECK(b->state("head.bias") == nullptr);
}

TEST_CASE("state_dict: a parameter whose shape changed is reported and starts fresh") {
  optim::NamedTensors p = {{"w", param({1, 2, 3})}};
  auto a = optim::create("sgd", p, {{"momentum", 0.9}});
  a->step(quadratic_closure(p));
  optim::NamedTensors q = {{"w", param({1, 2})}};
  auto b = optim::create("sgd", q, {{"momentum", 0.9}});
  optim::LoadReport report = b->load_state_dict(a->state_dict());
  CHECK(report.mismatched == std::vector<std::string>{"w"});
  CHECK(b->state("w") == nullptr);
}

TEST_CASE("state_dict: another optimizer's dict is refused") {
  optim::NamedTensors p = {{"w", param({1, 2})}};
  auto adam = optim::create("adam", p);
  auto sgd = optim::create("sgd", p);
  CHECK_THROWS_AS(sgd->load_state_dict(adam->state_dict()), ValueError);
  auto sam = optim::create("sam", p, {{"base", "adam"}});
  CHECK_THROWS_AS(adam->load_state_dict(sam->state_dict()), ValueError);
  CHECK_THROWS_AS(adam->load_state_dict(optim::StateDict{}), ValueError);
}

TEST_CASE("state_dict: group options come back, matched to groups by their parameters") {
  optim::NamedTensors p = {{"a", param({1})}, {"b", param({2})}};
  auto first = optim::create("sgd_hd", {p[0]}, {{"lr", 0.01}, {"hypergrad_lr", 0.01}});
  first->add_param_group({p[1]}, {{"lr", 0.02}});
  for (int i = 0; i < 3; ++i) first->step(quadratic_closure(p));
  double learned_a = first->lr(0), learned_b = first->lr(1);
  CHECK(learned_a != 0.01);  // hypergradient descent changed them

  // The same parameters, in groups created in the other order.
  auto second = optim::create("sgd_hd", {p[1]}, {{"lr", 0.5}});
  second->add_param_group({p[0]}, {{"lr", 0.5}});
  second->load_state_dict(first->state_dict());
  CHECK(second->lr(0) == learned_b);
  CHECK(second->lr(1) == learned_a);
  CHECK(second->option(1, "hypergrad_lr").real() == 0.01);
}

TEST_CASE("Optimizer::to moves the state to a device") {
  optim::NamedTensors p = {{"w", param({1, 2})}};
  auto adam = optim::create("adam", p);
  adam->step(quadratic_closure(p));
  std::vector<double> before = values(adam->state("w")->find("exp_avg"));
  adam->to(Device::cpu());
  CHECK(values(adam->state("w")->find("exp_avg")) == before);
  bool has_cuda = true;
  try {
    core::to(ones({1}), Device::cuda());
  } catch (const DeviceError&) {
    has_cuda = false;
  }
  if (!has_cuda) {
    CHECK_THROWS_AS(adam->to(Device::cuda()), DeviceError);
    return;
  }
  adam->to(Device::cuda());
  CHECK(adam->state("w")->find("exp_avg").device() == Device::cuda());
  adam->to(Device::cpu());
  CHECK(values(adam->state("w")->find("exp_avg")) == before);
}

TEST_CASE("step(closure) reports how many times the closure ran") {
  auto calls = [](const std::string& name, const optim::OptionMap& options) {
    optim::NamedTensors p = {{"w", param({1, 2})}};
    auto optimizer = optim::create(name, p, options);
    std::vector<int64_t> counts;
    int64_t ran = 0;
    optim::Closure closure = [&] {
      ++ran;
      return quadratic_closure(p)();
    };
    for (int i = 0; i < 3; ++i) counts.push_back(optimizer->step(closure).closure_calls);
    CHECK(ran == counts[0] + counts[1] + counts[2]);
    return counts;
  };
  CHECK(calls("sgd", {}) == std::vector<int64_t>{1, 1, 1});
  CHECK(calls("sam", {}) == std::vector<int64_t>{2, 2, 2});
  // SVRG's first step also takes the snapshot, with the step's closure as the full loss.
  CHECK(calls("svrg", {}) == std::vector<int64_t>{3, 2, 2});
  CHECK(calls("svrg", {{"snapshot_every", 2}}) == std::vector<int64_t>{3, 2, 3});
}

TEST_CASE("step: a non-finite gradient skips the step, the check can be turned off") {
  optim::NamedTensors p = {{"w", param({1, 2})}};
  auto adam = optim::create("adam", p, {{"lr", 0.1}});
  adam->step(quadratic_closure(p));
  std::vector<double> w = values(p[0].second);
  std::vector<double> m = values(adam->state("w")->find("exp_avg"));
  optim::StepResult result = adam->step([&] {
    Tensor loss = sum(p[0].second) * std::numeric_limits<double>::infinity();
    backward(loss);
    return loss;
  });
  CHECK(result.skipped);
  CHECK(values(p[0].second) == w);
  CHECK(values(adam->state("w")->find("exp_avg")) == m);
  CHECK(adam->state("w")->step == 1);
  CHECK(adam->skipped_steps() == 1);
  CHECK(adam->steps() == 1);

  adam->set_skip_nonfinite(false);
  CHECK_FALSE(adam->step([&] {
                    Tensor loss = sum(p[0].second) * std::numeric_limits<double>::quiet_NaN();
                    backward(loss);
                    return loss;
                  })
                  .skipped);
  CHECK(std::isnan(values(p[0].second)[0]));
}

TEST_CASE("step: gradients already in place, without a closure, zero_grad") {
  optim::NamedTensors p = {{"w", param({1, 2})}};
  auto sgd = optim::create("sgd", p, {{"lr", 0.5}});
  backward(sum(square(p[0].second)));
  CHECK(sgd->step().closure_calls == 0);
  check_close(p[0].second, {0, 0}, 1e-12);
  sgd->zero_grad(/*set_to_none=*/false);
  CHECK(values(p[0].second.grad()) == std::vector<double>{0, 0});
  sgd->zero_grad();
  CHECK_FALSE(p[0].second.grad().defined());
}

TEST_CASE("parameters: plain lists are named by position, bad parameters are refused") {
  Tensor a = param({1}), b = param({2}), c = param({3});
  auto sgd = optim::create("sgd", std::vector<Tensor>{a, b});
  sgd->add_param_group(std::vector<Tensor>{c}, {{"lr", 0.5}});
  std::vector<std::string> names;
  for (const auto& [name, t] : sgd->named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"0", "1", "2"});
  CHECK(sgd->lr(1) == 0.5);
  CHECK(sgd->lr(0) == 0.01);

  CHECK_THROWS_AS(sgd->add_param_group(optim::NamedTensors{{"0", param({1})}}), ValueError);
  CHECK_THROWS_AS(sgd->add_param_group(optim::NamedTensors{{"again", a}}), ValueError);
  Tensor d = param({4});
  CHECK_THROWS_AS(sgd->add_param_group(optim::NamedTensors{{"d", d}, {"d2", d}}), ValueError);
  CHECK_THROWS_AS(sgd->add_param_group(optim::NamedTensors{}), ValueError);
  CHECK_THROWS_AS(sgd->add_param_group(optim::NamedTensors{{"x", a * 2.0}}), ValueError);
  CHECK_THROWS_AS(sgd->add_param_group(optim::NamedTensors{{"i", from_vector<int64_t>({1, 2})}}),
                  DTypeError);
  CHECK_THROWS_AS(sgd->add_param_group(optim::NamedTensors{{"d", param({1})}}, {{"lr", -1.0}}),
                  ValueError);
  CHECK_THROWS_AS(sgd->set_option(5, "lr", 0.1), IndexError);
  CHECK_THROWS_AS(sgd->set_option(0, "momentum", -0.5), ValueError);
  CHECK(sgd->option(0, "momentum").real() == 0.0);  // a refused change leaves the option
}
