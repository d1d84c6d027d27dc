// The conformance suite: every registered optimizer, with no code of its own here, must solve the
// standard problems and keep the driver's promises. Learning rates come from a fixed grid (the
// first that solves the problem wins); step budgets come from the optimizer's family.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <map>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "optim/registry.h"
#include "optim/state_dict.h"
#include "problems.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::testing;

namespace {

// Tried from the largest down; the first that solves the problem counts.
const std::vector<double> kLearningRates = {1, 0.3, 0.1, 0.03, 0.01, 3e-3, 1e-3, 3e-4, 1e-4};

// Steps each family may take per problem.
int64_t budget(optim::Family family, const std::string& problem) {
  using optim::Family;
  static const std::map<std::string, std::map<Family, int64_t>> budgets = {
      {"quadratic",
       {{Family::gradient, 2000},
        {Family::adaptive, 4000},
        {Family::sign, 4000},
        {Family::trust_ratio, 4000},
        {Family::simplex, 2000},
        {Family::second_order, 100}}},
      {"rosenbrock",
       {{Family::gradient, 20000},
        {Family::adaptive, 10000},
        {Family::sign, 10000},
        {Family::trust_ratio, 20000},
        {Family::second_order, 500}}},
      {"logistic_regression",
       {{Family::gradient, 3000},
        {Family::adaptive, 3000},
        {Family::sign, 3000},
        {Family::trust_ratio, 3000},
        {Family::second_order, 500}}},
  };
  return budgets.at(problem).at(family);
}

optim::Closure closure_for(const Problem& problem, const optim::NamedTensors& params) {
  return [&problem, params] {
    Tensor loss = problem.loss(params);
    backward(loss);
    return loss;
  };
}

// Other learning-rate options (hypergradient's hypergrad_lr) at their defaults and at 1e-2, 1e-4
// and 1e-6 of them: how fast a learning rate may change depends on the gradients' scale, which
// Rosenbrock's start makes large.
std::vector<optim::OptionMap> other_learning_rates(const optim::OptimizerInfo& info) {
  std::vector<optim::OptionMap> choices = {{}};
  for (const optim::OptionSpec& spec : info.options) {
    if (!spec.name.ends_with("_lr") || spec.type != optim::OptionType::real) continue;
    std::vector<optim::OptionMap> scaled;
    for (const optim::OptionMap& choice : choices) {
      for (double scale : {1.0, 1e-2, 1e-4, 1e-6}) {
        optim::OptionMap c = choice;
        c.insert_or_assign(spec.name, spec.default_value.real() * scale);
        scaled.push_back(c);
      }
    }
    choices = scaled;
  }
  return choices;
}

std::string describe(const optim::OptionMap& options) {
  std::string text;
  for (const auto& [name, value] : options)
    text += (text.empty() ? "" : ", ") + name + " " + value.str();
  return text;
}

struct Attempt {
  bool solved = false;
  int64_t steps = 0;
  double loss = 0;
};

Attempt attempt(const optim::OptimizerInfo& info, const Problem& problem,
                const optim::OptionMap& options) {
  optim::NamedTensors params = problem.start();
  auto optimizer = info.factory(params, options);
  optim::Closure closure = closure_for(problem, params);
  double first = 0;
  int64_t limit = budget(info.family, problem.name);
  for (int64_t step = 0; step < limit; ++step) {
    double loss = optimizer->step(closure).loss.item();
    if (step == 0) first = loss;
    // A diverging or stuck run ends early; the next learning rate gets its turn.
    if (!std::isfinite(loss) || loss > 1e3 * first) return {false, step, loss};
    if (problem.solved(params, loss)) return {true, step + 1, loss};
  }
  return {false, limit, problem.loss(params).item()};
}

// A fresh optimizer of every registered kind over `params`, with default options but `options`.
std::unique_ptr<optim::Optimizer> make(const optim::OptimizerInfo& info,
                                       const optim::NamedTensors& params,
                                       const optim::OptionMap& options = {}) {
  return info.factory(params, options);
}

// Distributions (exact in binary, so sums are exactly 1), for optimizers on the simplex.
optim::NamedTensors three_params() {
  return {{"a", leaf({0.125, 0.375, 0.25, 0.25})},
          {"b", leaf({0.5, 0.25, 0.25})},
          {"c", leaf({0.0625, 0.9375})}};
}

Tensor three_loss(const optim::NamedTensors& p, bool use_c = true) {
  Tensor loss = sum(square(p[0].second - 0.3)) + sum(pow(p[1].second, 3.0));
  if (use_c) loss = loss + sum(exp(p[2].second));
  return loss;
}

// Sets every learning-rate option of `group` (lr, and hypergradient's hypergrad_lr) to 0.
void zero_learning_rates(optim::Optimizer& optimizer, size_t group) {
  std::vector<std::string> names;
  for (const auto& [option, value] : optimizer.param_groups()[group].options)
    if (option.ends_with("lr")) names.push_back(option);
  for (const std::string& option : names) optimizer.set_option(group, option, 0.0);
}

bool same_values(const Tensor& a, const Tensor& b) { return values(a) == values(b); }

}  // namespace

TEST_CASE("conformance: every registered optimizer solves the standard problems") {
  for (const Problem& problem : {quadratic(), rosenbrock(), logistic_regression()}) {
    for (const optim::OptimizerInfo& info : optim::registered_optimizers()) {
      SUBCASE((problem.name + " / " + info.name).c_str()) {
        if (info.family == optim::Family::simplex && !problem.simplex) {
          MESSAGE(info.name, " keeps its parameters on the simplex, where ", problem.name,
                  " has no standard start; its own tests cover it");
          continue;
        }
        Attempt best;
        std::string solved_with;
        for (double lr : kLearningRates) {
          for (const optim::OptionMap& others : other_learning_rates(info)) {
            optim::OptionMap options = others;
            options.insert_or_assign("lr", lr);
            best = attempt(info, problem, options);
            if (best.solved) {
              solved_with = describe(options);
              break;
            }
          }
          if (best.solved) break;
        }
        CHECK_MESSAGE(best.solved, info.name, " did not solve ", problem.name, ": loss ", best.loss,
                      " after ", best.steps, " steps with the last options tried");
        if (best.solved)
          MESSAGE(problem.name, ": ", info.name, " solved it in ", best.steps, " steps with ",
                  solved_with);
      }
    }
  }
}

TEST_CASE("conformance: a state dict round-trips exactly and resuming continues the trajectory") {
  Problem problem = quadratic();
  for (const optim::OptimizerInfo& info : optim::registered_optimizers()) {
    SUBCASE(info.name.c_str()) {
      optim::NamedTensors straight = problem.start(), first = problem.start();
      auto a = make(info, straight), b = make(info, first);
      for (int i = 0; i < 5; ++i) {
        a->step(closure_for(problem, straight));
        b->step(closure_for(problem, first));
      }
      optim::StateDict saved = b->state_dict();
      saved.json = nlohmann::json::parse(saved.json.dump());  // as a checkpoint stores it

      optim::NamedTensors resumed = problem.start();
      {
        NoGradGuard no_grad;
        copy_(resumed[0].second, first[0].second);
      }
      auto c = make(info, resumed);
      optim::LoadReport report = c->load_state_dict(saved, /*strict=*/true);
      CHECK(report.ok());
      optim::StateDict again = c->state_dict();
      CHECK(again.json == saved.json);
      REQUIRE(again.tensors.size() == saved.tensors.size());
      for (size_t i = 0; i < saved.tensors.size(); ++i) {
        CHECK(again.tensors[i].first == saved.tensors[i].first);
        CHECK(same_values(again.tensors[i].second, saved.tensors[i].second));
      }
      for (int i = 0; i < 5; ++i) {
        a->step(closure_for(problem, straight));
        c->step(closure_for(problem, resumed));
      }
      CHECK(same_values(resumed[0].second, straight[0].second));
      CHECK_FALSE(same_values(resumed[0].second, problem.start()[0].second));
    }
  }
}

TEST_CASE("conformance: parameter groups keep their own learning rates") {
  for (const optim::OptimizerInfo& info : optim::registered_optimizers()) {
    SUBCASE(info.name.c_str()) {
      optim::NamedTensors p = three_params();
      auto optimizer = make(info, {p[0]});
      // Every learning-rate option of the first group is 0, so it must stay where it is.
      zero_learning_rates(*optimizer, 0);
      // The second takes the options the optimizer was created with: the defaults.
      optimizer->add_param_group({p[1], p[2]});
      CHECK(optimizer->lr(0) == 0.0);
      CHECK(optimizer->lr(1) > 0.0);
      optim::NamedTensors start = three_params();
      for (int i = 0; i < 3; ++i)
        optimizer->step([&] {
          Tensor loss = three_loss(p);
          backward(loss);
          return loss;
        });
      CHECK(same_values(p[0].second, start[0].second));
      CHECK_FALSE(same_values(p[1].second, start[1].second));
      CHECK_FALSE(same_values(p[2].second, start[2].second));
    }
  }
}

TEST_CASE("conformance: parameters without a gradient are skipped") {
  for (const optim::OptimizerInfo& info : optim::registered_optimizers()) {
    SUBCASE(info.name.c_str()) {
      optim::NamedTensors p = three_params(), start = three_params();
      auto optimizer = make(info, p);
      for (int i = 0; i < 3; ++i)
        optimizer->step([&] {
          Tensor loss = three_loss(p, /*use_c=*/false);
          backward(loss);
          return loss;
        });
      CHECK(same_values(p[2].second, start[2].second));
      CHECK(optimizer->state("c") == nullptr);
      CHECK(optimizer->state("a") != nullptr);
      CHECK(optimizer->state_dict().json["state"].contains("c") == false);
      CHECK_FALSE(same_values(p[0].second, start[0].second));
    }
  }
}

TEST_CASE("conformance: a zero learning rate leaves the parameters unchanged") {
  for (const optim::OptimizerInfo& info : optim::registered_optimizers()) {
    SUBCASE(info.name.c_str()) {
      optim::NamedTensors p = three_params(), start = three_params();
      auto optimizer = make(info, p);
      zero_learning_rates(*optimizer, 0);
      for (int i = 0; i < 5; ++i)
        optimizer->step([&] {
          Tensor loss = three_loss(p);
          backward(loss);
          return loss;
        });
      for (size_t i = 0; i < p.size(); ++i) CHECK(same_values(p[i].second, start[i].second));
    }
  }
}
