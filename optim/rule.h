// What an update-rule file needs: State, option fields, the ops, and RuleOptimizer, which makes
// an Optimizer of a rule. A rule is a struct with
//   struct Options { double lr = ...; static auto fields(); void validate() const; };
//   static void update(const Tensor& param, const Tensor& grad, State& state,
//                      const Options& options, int64_t step);
// or, when it needs every parameter of a group at once (hypergradient descent's dot product),
//   static void update_group(std::vector<GroupEntry>& group, Options& options);
// whose changes to `options` are kept (a learned learning rate). Updates run under NoGradGuard,
// after the driver has skipped parameters without gradients and counted the step.
// docs/optimizers.md walks through a whole rule.
#pragma once

#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/ops/elementwise.h"
#include "autograd/ops/inplace.h"
#include "autograd/ops/reduce.h"
#include "core/ops.h"
#include "optim/optimizer.h"
#include "optim/registry.h"

namespace nabla::optim {

// One parameter of a group, for update_group.
struct GroupEntry {
  const std::string& name;
  Tensor param;
  Tensor grad;
  State& state;  // state.step is this update's number, from 1
};

template <class Rule>
class RuleOptimizer final : public Optimizer {
 public:
  using Options = typename Rule::Options;

  RuleOptimizer(std::string name, std::vector<OptionSpec> specs, NamedTensors params,
                const OptionMap& options)
      : Optimizer(std::move(name), std::move(specs), std::move(params), options) {
    validate(param_groups()[0].options);
  }

 protected:
  void validate(const OptionMap& options) const override {
    read_options<Options>(options).validate();
  }

  void update_group(ParamGroup& group) override {
    Options options = read_options<Options>(group.options);
    std::vector<GroupEntry> entries;
    for (auto& [name, param] : group.params) {
      Tensor grad = param.grad();
      if (!grad.defined()) continue;
      State& state = state_of(name);
      ++state.step;
      entries.push_back({name, param, grad, state});
    }
    if constexpr (requires(std::vector<GroupEntry> & g, Options & o) {
                    Rule::update_group(g, o);
                  }) {
      if (entries.empty()) return;
      Rule::update_group(entries, options);
      write_options(options, group.options);
    } else {
      for (GroupEntry& e : entries) Rule::update(e.param, e.grad, e.state, options, e.state.step);
    }
  }
};

// Registers `Rule` as `name`; `defaults` overrides the defaults of Rule::Options (AdamW is Adam
// with decoupled weight decay on by default).
template <class Rule>
void register_rule(OptimizerRegistry& registry, const std::string& name, const std::string& help,
                   Family family, const OptionMap& defaults = {}) {
  std::vector<OptionSpec> specs =
      with_defaults(name, option_specs<typename Rule::Options>(), defaults);
  registry.add(
      {name, help, family, specs, [name, specs](NamedTensors params, const OptionMap& options) {
         return std::unique_ptr<Optimizer>(
             std::make_unique<RuleOptimizer<Rule>>(name, specs, std::move(params), options));
       }});
}

}  // namespace nabla::optim
