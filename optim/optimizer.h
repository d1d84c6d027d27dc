// optim::Optimizer: the driver every optimizer shares. It owns the parameter groups and their
// options, per-parameter state keyed by parameter name, step() and step(closure), the skipping of
// steps with non-finite gradients, and state dicts. An update rule (optim/rule.h) supplies only
// the math; a gradient oracle (SAM, SVRG) decides where and how often the closure runs; an
// optimizer that drives the closure itself (line searches, curvature products) overrides
// closure_step.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.h"
#include "optim/options.h"
#include "optim/state.h"

namespace nabla::optim {

struct StateDict;
struct LoadReport;
class Optimizer;

// Computes the loss and its gradients (calls backward) at the current weights and returns the
// loss. The optimizer clears the gradients before each call, so a closure need not.
using Closure = std::function<Tensor()>;

struct ParamGroup {
  NamedTensors params;
  // Every option of the optimizer, typed; change them through Optimizer::set_option.
  OptionMap options;
};

struct StepResult {
  Tensor loss;  // what the closure returned at the weights the step started from
  int64_t closure_calls = 0;
  bool skipped = false;  // a gradient was not finite, so nothing changed
};

// What one step of an optimizer that drives the closure itself reports (Optimizer::closure_step).
struct ClosureStep {
  Tensor loss;           // at the weights the step started from
  bool skipped = false;  // nothing changed (a non-finite gradient, say)
};

// Decides at which weights the closure runs, and how often, and leaves in each parameter's grad()
// the gradient the update rule should use: SAM's gradient at perturbed weights, SVRG's
// variance-reduced gradient. The rule then steps as usual.
class GradientOracle {
 public:
  virtual ~GradientOracle() = default;
  virtual std::string name() const = 0;
  // Returns the loss at the current weights.
  virtual Tensor gradients(Optimizer& optimizer, const Closure& closure) = 0;
  virtual void save(StateDict& dict) const;
  virtual void load(const StateDict& dict);
  virtual void to(Device device);
};

class Optimizer {
 public:
  virtual ~Optimizer();
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // The update rule's registry name ("adamw"), behind its oracle's if any ("sam(adamw)").
  std::string name() const;
  const std::string& rule_name() const { return rule_name_; }
  const std::vector<OptionSpec>& option_specs() const { return specs_; }

  // ---- Parameter groups and their options ----
  const std::vector<ParamGroup>& param_groups() const { return groups_; }
  // Options left out take the values the optimizer was created with. Names must be unique
  // across groups; a plain list is named by position, continuing across groups.
  void add_param_group(NamedTensors params, const OptionMap& options = {});
  void add_param_group(const std::vector<Tensor>& params, const OptionMap& options = {});
  bool has_option(std::string_view option) const;
  const OptionValue& option(size_t group, std::string_view option) const;
  // Converts `value` to the option's type and validates the group's options with it.
  void set_option(size_t group, std::string_view option, OptionValue value);
  double lr(size_t group = 0) const { return option(group, "lr").real(); }
  // Every group's parameters, in order.
  NamedTensors named_parameters() const;

  // ---- Stepping ----
  void zero_grad(bool set_to_none = true);
  // Updates from the gradients already in place; an optimizer that needs a closure (its oracle's,
  // or its own: drives_closure()) refuses.
  StepResult step();
  StepResult step(const Closure& closure);
  // Whether a step with a non-finite gradient is skipped (the default) rather than applied.
  void set_skip_nonfinite(bool skip) { skip_nonfinite_ = skip; }
  int64_t steps() const { return steps_; }
  int64_t skipped_steps() const { return skipped_steps_; }
  bool last_step_skipped() const { return last_step_skipped_; }

  // ---- State ----
  // Parameter `name`'s state; null before its first update.
  const State* state(std::string_view name) const;
  StateDict state_dict() const;
  // State is matched by parameter name, so a dict still loads after parameters were added,
  // removed or reordered; the report says what matched. Group options come from the saved group
  // that holds most of a group's parameters. strict: anything unmatched is a ValueError.
  LoadReport load_state_dict(const StateDict& dict, bool strict = false);
  // Moves the state (not the parameters: the model moves those) to `device`.
  void to(Device device);

  // An optimizer that drives the closure itself takes no oracle (a ValueError).
  void set_oracle(std::unique_ptr<GradientOracle> oracle);
  GradientOracle* oracle() const { return oracle_.get(); }

 protected:
  Optimizer(std::string rule_name, std::vector<OptionSpec> specs, NamedTensors params,
            const OptionMap& options);
  // A ValueError when `options` (complete and typed) are not valid for the rule.
  virtual void validate(const OptionMap& options) const = 0;
  // Updates the parameters of `group` that have gradients; runs under NoGradGuard. The default
  // implementation's closure_step calls it; an optimizer that overrides closure_step need not.
  virtual void update_group(ParamGroup& group);
  State& state_of(const std::string& name) { return state_[name]; }

  // ---- Optimizers that drive the closure themselves (Note [closure-driven steps]) ----
  // True for an optimizer that overrides closure_step; then step() without a closure is refused.
  virtual bool drives_closure() const { return false; }
  // One step. `closure` clears the gradients, runs the user's closure with grad mode on and is
  // counted in StepResult::closure_calls; call it as often as the method needs. The driver counts
  // the step (steps(), skipped_steps(), last_step_skipped()) from the result. The default runs
  // the oracle or the closure once, then update_group on every group.
  virtual ClosureStep closure_step(const Closure& closure);
  // Whether a non-finite gradient should skip the step (set_skip_nonfinite), and whether every
  // gradient in place is finite.
  bool skip_nonfinite() const { return skip_nonfinite_; }
  bool gradients_finite() const;

 private:
  // Checks the gradients, then updates every group; false when the step was skipped.
  bool apply_update();
  void count_step(bool skipped);
  size_t group_index(size_t group, const char* method) const;

  std::string rule_name_;
  std::vector<OptionSpec> specs_;
  OptionMap defaults_;
  std::vector<ParamGroup> groups_;
  std::map<std::string, State, std::less<>> state_;
  std::unique_ptr<GradientOracle> oracle_;
  bool skip_nonfinite_ = true;
  int64_t steps_ = 0;
  int64_t skipped_steps_ = 0;
  bool last_step_skipped_ = false;
};

// Note [closure-driven steps]
// Newton, BFGS, L-BFGS and Hessian-free methods evaluate the loss several times per step (line
// searches) or differentiate the gradients again (Hessian-vector products, see optim/curvature.h),
// so evaluating the closure once and then updating does not fit them. They override
// drives_closure() and closure_step(); step(closure) hands them the counting closure and counts
// the step, and step() refuses. Their state must still live in per-parameter State (or in group
// options), so that state_dict() holds it: a vector over all parameters is kept as one slice per
// parameter (optim/param_vector.h).

// Names a plain parameter list by position: "0", "1", ... starting at `first`.
NamedTensors numbered(const std::vector<Tensor>& params, int64_t first = 0);

}  // namespace nabla::optim
