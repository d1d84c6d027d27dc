// ClosureOptimizer: an Optimizer around a method that runs the closure itself (Newton, BFGS,
// L-BFGS; Note [closure-driven steps] in optim/optimizer.h), and what such a method sees of the
// parameters and their state.
#pragma once

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "optim/optimizer.h"
#include "optim/param_vector.h"
#include "optim/registry.h"

namespace nabla::optim {

// A parameter that takes part in a step: it had a gradient after the step's first evaluation.
struct Participant {
  std::string name;
  Tensor param;
  double lr;     // its group's learning rate
  State* state;  // state->step counts the steps it took part in
};
using Participants = std::vector<Participant>;

// What a method's step works with. A method is a struct with
//   struct Options { double lr = ...; static auto fields(); void validate() const; };
//   static ClosureStep step(StepContext& context, const Options& options);
// Options other than lr are the first group's; each parameter steps with its own group's lr.
struct StepContext {
  // Clears the gradients, runs the user's closure with grad mode on, and counts the call.
  const Closure& closure;
  // Every parameter, in group order (for differentiable_gradients).
  NamedTensors parameters;
  // Whether a step that starts with `loss` and the gradients now in place must be skipped:
  // skipping is on (set_skip_nonfinite) and one of them is not finite.
  std::function<bool(const Tensor& loss)> must_skip;
  // The parameters with a gradient now, in group order, each counted as taking part in this
  // step: call it once per step, after the first evaluation.
  std::function<Participants()> participants;
};

// The participants' gradients as they are now (an undefined one reads as zeros) and their values.
ParamVector gradients(const Participants& ps);
ParamVector parameters(const Participants& ps);
// p_i = lr_i * d_i: the search direction, with each group's learning rate.
ParamVector scaled_by_lr(const Participants& ps, const ParamVector& d);
// Sets the parameters to x + t * p, in place.
void set_parameters(const Participants& ps, const ParamVector& x, double t, const ParamVector& p);

// A vector over the participants kept in their state: slot `name` of each (undefined where a
// participant has none), and setting or removing it.
ParamVector slot_vector(const Participants& ps, const std::string& name);
void set_slot_vector(const Participants& ps, const std::string& name, const ParamVector& v);
void erase_slot(const Participants& ps, const std::string& name);

// A number the method keeps for all parameters together (a step size, an iteration count):
// every participant's state holds the same copy, so state dicts keep it with each parameter.
double shared_scalar(const Participants& ps, const std::string& name, double initial);
void set_shared_scalar(const Participants& ps, const std::string& name, double value);
// Whether every participant's state holds shared scalar `name` with the same value: false when
// the parameters that take part changed, and state kept over all of them no longer fits.
bool shared_scalar_agrees(const Participants& ps, const std::string& name);
// Forgets the participants' state (tensors and scalars), keeping their step counts.
void clear_state(const Participants& ps);

template <class Method>
class ClosureOptimizer final : public Optimizer {
 public:
  using Options = typename Method::Options;

  ClosureOptimizer(std::string name, std::vector<OptionSpec> specs, NamedTensors params,
                   const OptionMap& options)
      : Optimizer(std::move(name), std::move(specs), std::move(params), options) {
    validate(param_groups()[0].options);
  }

 protected:
  void validate(const OptionMap& options) const override {
    read_options<Options>(options).validate();
  }
  bool drives_closure() const override { return true; }

  ClosureStep closure_step(const Closure& closure) override {
    Closure checked = [this, &closure] {
      Tensor loss = closure();
      NABLA_CHECK(loss.defined() && loss.numel() == 1, ValueError, rule_name(),
                  ": the closure must return the loss, one value, got ",
                  loss.defined() ? "shape " : "an undefined tensor",
                  loss.defined() ? detail::concat(loss.shape()) : "");
      return loss;
    };
    StepContext context{checked, named_parameters(),
                        [this](const Tensor& loss) {
                          return skip_nonfinite() &&
                                 !(std::isfinite(loss.item()) && gradients_finite());
                        },
                        [this] { return participants(); }};
    return Method::step(context, read_options<Options>(param_groups()[0].options));
  }

 private:
  Participants participants() {
    Participants ps;
    for (const ParamGroup& group : param_groups()) {
      double lr = group.options.at("lr").real();
      for (const auto& [name, p] : group.params) {
        if (!p.grad().defined()) continue;
        State& state = state_of(name);
        ++state.step;
        ps.push_back({name, p, lr, &state});
      }
    }
    return ps;
  }
};

// Registers `Method` as `name`, like register_rule (optim/rule.h).
template <class Method>
void register_method(OptimizerRegistry& registry, const std::string& name, const std::string& help,
                     Family family, const OptionMap& defaults = {}) {
  std::vector<OptionSpec> specs =
      with_defaults(name, option_specs<typename Method::Options>(), defaults);
  registry.add(
      {name, help, family, specs, [name, specs](NamedTensors params, const OptionMap& options) {
         return std::unique_ptr<Optimizer>(
             std::make_unique<ClosureOptimizer<Method>>(name, specs, std::move(params), options));
       }});
}

}  // namespace nabla::optim
