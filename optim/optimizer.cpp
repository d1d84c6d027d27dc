// The optimizer driver: groups and options, stepping with closures and oracles, skipping
// non-finite steps, and state dicts keyed by parameter name.
#include "optim/optimizer.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "autograd/grad_mode.h"
#include "autograd/ops/inplace.h"
#include "core/ops.h"
#include "optim/state_dict.h"

namespace nabla::optim {

using nlohmann::json;

void GradientOracle::save(StateDict&) const {}
void GradientOracle::load(const StateDict&) {}
void GradientOracle::to(Device) {}

namespace {

json option_to_json(const OptionValue& value) {
  switch (value.type()) {
    case OptionType::real:
      return value.real();
    case OptionType::integer:
      return value.integer();
    case OptionType::boolean:
      return value.boolean();
    case OptionType::text:
      return value.text();
    case OptionType::integers:
      return value.integers();
  }
  return nullptr;
}

OptionValue option_from_json(const json& j, OptionType type, std::string_view owner,
                             std::string_view option) {
  OptionValue value = 0;
  if (j.is_boolean()) {
    value = j.get<bool>();
  } else if (j.is_number_integer()) {
    value = j.get<int64_t>();
  } else if (j.is_number()) {
    value = j.get<double>();
  } else if (j.is_string()) {
    value = j.get<std::string>();
  } else if (j.is_array()) {
    value = j.get<std::vector<int64_t>>();
  } else {
    throw ValueError(detail::concat(owner, ": option '", option, "' has no value in the dict"));
  }
  return value.as(type, owner, option);
}

}  // namespace

Optimizer::Optimizer(std::string rule_name, std::vector<OptionSpec> specs, NamedTensors params,
                     const OptionMap& options)
    : rule_name_(std::move(rule_name)), specs_(std::move(specs)) {
  defaults_ = resolve_options(rule_name_, specs_, options);
  NABLA_CHECK(defaults_.contains("lr") && defaults_.at("lr").type() == OptionType::real, ValueError,
              rule_name_, ": every optimizer has a real option 'lr', which schedules set");
  add_param_group(std::move(params), {});
}

Optimizer::~Optimizer() = default;

std::string Optimizer::name() const {
  return oracle_ ? oracle_->name() + "(" + rule_name_ + ")" : rule_name_;
}

void Optimizer::add_param_group(NamedTensors params, const OptionMap& options) {
  const std::string where = rule_name_ + ": add_param_group";
  NABLA_CHECK(!params.empty(), ValueError, where, ": got no parameters");
  std::set<std::string, std::less<>> seen;
  std::map<const TensorImpl*, std::string> tensors;
  for (const auto& [name, p] : named_parameters()) {
    seen.insert(name);
    tensors.emplace(p.impl(), name);
  }
  for (const auto& [name, p] : params) {
    NABLA_CHECK(!name.empty(), ValueError, where, ": a parameter has an empty name");
    NABLA_CHECK(p.defined(), ValueError, where, ": parameter '", name, "' is undefined");
    NABLA_CHECK(is_floating(p.dtype()), DTypeError, where, ": parameter '", name,
                "' must be floating point, got ", p.dtype());
    NABLA_CHECK(p.is_leaf(), ValueError, where, ": parameter '", name,
                "' was computed by an op; optimizers update leaves only");
    NABLA_CHECK(seen.insert(name).second, ValueError, where, ": the name '", name,
                "' is used twice; each parameter needs its own name");
    auto [it, fresh] = tensors.emplace(p.impl(), name);
    NABLA_CHECK(fresh, ValueError, where, ": parameter '", name, "' is the same tensor as '",
                it->second, "'");
  }
  OptionMap merged = defaults_;
  for (const auto& [option, value] : options) merged.insert_or_assign(option, value);
  OptionMap resolved = resolve_options(rule_name_, specs_, merged);
  // The constructor adds the first group before the rule can validate; RuleOptimizer does it then.
  if (!groups_.empty()) validate(resolved);
  groups_.push_back({std::move(params), std::move(resolved)});
}

void Optimizer::add_param_group(const std::vector<Tensor>& params, const OptionMap& options) {
  add_param_group(numbered(params, static_cast<int64_t>(named_parameters().size())), options);
}

bool Optimizer::has_option(std::string_view option) const { return defaults_.contains(option); }

size_t Optimizer::group_index(size_t group, const char* method) const {
  NABLA_CHECK(group < groups_.size(), IndexError, rule_name_, ": ", method, ": group ", group,
              " does not exist (the optimizer has ", groups_.size(), ")");
  return group;
}

const OptionValue& Optimizer::option(size_t group, std::string_view option) const {
  const OptionMap& options = groups_[group_index(group, "option")].options;
  auto it = options.find(option);
  NABLA_CHECK(it != options.end(), ValueError, rule_name_, ": unknown option '", option,
              "'; valid options: ", option_names(specs_));
  return it->second;
}

void Optimizer::set_option(size_t group, std::string_view option, OptionValue value) {
  OptionMap& options = groups_[group_index(group, "set_option")].options;
  OptionMap changed = options;
  changed.insert_or_assign(std::string(option), std::move(value));
  changed = resolve_options(rule_name_, specs_, changed);
  validate(changed);
  options = std::move(changed);
}

NamedTensors Optimizer::named_parameters() const {
  NamedTensors all;
  for (const ParamGroup& g : groups_) all.insert(all.end(), g.params.begin(), g.params.end());
  return all;
}

void Optimizer::zero_grad(bool set_to_none) {
  for (const ParamGroup& g : groups_) {
    std::vector<Tensor> params;
    for (const auto& [name, p] : g.params) params.push_back(p);
    nabla::zero_grad(params, set_to_none);
  }
}

// The sum of a gradient is NaN or infinite when an element is (or when the elements are so
// large that they overflow, which no step should use either). Summing per device costs one host
// read per device rather than one per parameter.
bool Optimizer::gradients_finite() const {
  std::vector<std::pair<Device, Tensor>> totals;
  for (const ParamGroup& g : groups_) {
    for (const auto& [name, p] : g.params) {
      Tensor grad = p.grad();
      if (!grad.defined()) continue;
      if (is_half(grad.dtype())) grad = core::to(grad, kFloat32);
      Tensor s = core::reduce(ReduceOp::sum, grad, {}, false);
      auto it = std::find_if(totals.begin(), totals.end(),
                             [&](const auto& t) { return t.first == grad.device(); });
      if (it == totals.end()) {
        totals.emplace_back(grad.device(), core::to(s, kFloat64));
      } else {
        it->second = core::binary(BinaryOp::add, it->second, s);
      }
    }
  }
  return std::all_of(totals.begin(), totals.end(),
                     [](const auto& t) { return std::isfinite(t.second.item()); });
}

void Optimizer::update_group(ParamGroup&) {
  throw Error(detail::concat(rule_name_,
                             ": update_group is not implemented; an optimizer "
                             "overrides it or closure_step"));
}

bool Optimizer::apply_update() {
  bool skip = skip_nonfinite_ && !gradients_finite();
  if (!skip) {
    NoGradGuard no_grad;
    for (ParamGroup& g : groups_) update_group(g);
  }
  return !skip;
}

void Optimizer::count_step(bool skipped) {
  last_step_skipped_ = skipped;
  ++(skipped ? skipped_steps_ : steps_);
}

void Optimizer::set_oracle(std::unique_ptr<GradientOracle> oracle) {
  NABLA_CHECK(!oracle || !drives_closure(), ValueError, rule_name_, ": cannot take the oracle ",
              oracle->name(), ", because ", rule_name_, " runs the closure itself");
  oracle_ = std::move(oracle);
}

StepResult Optimizer::step() {
  NABLA_CHECK(!oracle_, ValueError, name(), ": step() needs a closure, because ", oracle_->name(),
              " evaluates the loss itself; call step(closure)");
  NABLA_CHECK(!drives_closure(), ValueError, name(), ": step() needs a closure, because ", name(),
              " evaluates the loss and its gradients itself (line search or curvature); call "
              "step(closure) with a closure that calls backward(loss) and returns loss");
  StepResult result;
  result.skipped = !apply_update();
  count_step(result.skipped);
  return result;
}

ClosureStep Optimizer::closure_step(const Closure& closure) {
  Tensor loss = oracle_ ? oracle_->gradients(*this, closure) : closure();
  return {loss, !apply_update()};
}

StepResult Optimizer::step(const Closure& closure) {
  NABLA_CHECK(static_cast<bool>(closure), ValueError, name(),
              ": step(closure) got an empty closure");
  StepResult result;
  Closure counted = [&]() {
    ++result.closure_calls;
    zero_grad();
    GradModeGuard grad_on(true);
    return closure();
  };
  ClosureStep done = closure_step(counted);
  result.loss = done.loss;
  result.skipped = done.skipped;
  count_step(done.skipped);
  return result;
}

const State* Optimizer::state(std::string_view name) const {
  auto it = state_.find(name);
  return it == state_.end() ? nullptr : &it->second;
}

StateDict Optimizer::state_dict() const {
  StateDict dict;
  json& j = dict.json;
  j["optimizer"] = rule_name_;
  j["steps"] = steps_;
  j["skipped_steps"] = skipped_steps_;
  j["groups"] = json::array();
  j["state"] = json::object();
  for (const ParamGroup& g : groups_) {
    json group = {{"params", json::array()}, {"options", json::object()}};
    for (const auto& [option, value] : g.options) group["options"][option] = option_to_json(value);
    for (const auto& [name, p] : g.params) {
      group["params"].push_back(name);
      auto it = state_.find(name);
      if (it == state_.end()) continue;
      const State& s = it->second;
      json entry = {{"step", s.step}, {"shape", p.shape()}, {"slots", json::array()}};
      for (const auto& [slot, t] : s.tensors()) {
        entry["slots"].push_back(slot);
        dict.tensors.emplace_back(name + "." + slot, core::clone(t));
      }
      if (!s.scalars().empty()) entry["scalars"] = s.scalars();
      j["state"][name] = std::move(entry);
    }
    j["groups"].push_back(std::move(group));
  }
  if (oracle_) {
    j["oracle"] = {{"name", oracle_->name()}};
    oracle_->save(dict);
  }
  return dict;
}

LoadReport Optimizer::load_state_dict(const StateDict& dict, bool strict) {
  const std::string where = rule_name_ + ": load_state_dict";
  const json& j = dict.json;
  NABLA_CHECK(
      j.is_object() && j.contains("optimizer") && j.contains("groups") && j.contains("state"),
      ValueError, where, ": the dict is not an optimizer state dict");
  std::string saved_rule = j["optimizer"].get<std::string>();
  NABLA_CHECK(saved_rule == rule_name_, ValueError, where, ": the dict holds the state of '",
              saved_rule, "', not '", rule_name_, "'");
  std::string saved_oracle = j.contains("oracle") ? j["oracle"]["name"].get<std::string>() : "";
  std::string own_oracle = oracle_ ? oracle_->name() : "";
  NABLA_CHECK(saved_oracle == own_oracle, ValueError, where, ": the dict was saved with oracle '",
              saved_oracle, "', this optimizer has '", own_oracle, "'");

  std::map<std::string, Tensor, std::less<>> saved_tensors;
  for (const auto& [key, t] : dict.tensors) saved_tensors.emplace(key, t);

  // Work out everything first, so that a strict load that fails changes nothing.
  LoadReport report;
  std::map<std::string, State, std::less<>> loaded;
  const json& saved_state = j["state"];
  std::set<std::string, std::less<>> current;
  for (const auto& [name, p] : named_parameters()) {
    current.insert(name);
    if (!saved_state.contains(name)) {
      report.missing.push_back(name);
      continue;
    }
    const json& entry = saved_state[name];
    if (entry["shape"].get<std::vector<int64_t>>() != std::vector<int64_t>(p.shape())) {
      report.mismatched.push_back(name);
      continue;
    }
    State s;
    s.step = entry["step"].get<int64_t>();
    for (const json& slot : entry["slots"]) {
      std::string key = name + "." + slot.get<std::string>();
      auto t = saved_tensors.find(key);
      NABLA_CHECK(t != saved_tensors.end(), ValueError, where, ": the dict lists the state '", key,
                  "' but holds no such tensor");
      s.set(slot.get<std::string>(), core::to(core::clone(t->second), p.device()));
    }
    if (entry.contains("scalars"))
      for (const auto& [scalar, value] : entry["scalars"].items())
        s.scalar(scalar, 0) = value.get<double>();
    loaded.emplace(name, std::move(s));
    report.matched.push_back(name);
  }
  for (const auto& [name, entry] : saved_state.items())
    if (!current.contains(name)) report.unexpected.push_back(name);
  NABLA_CHECK(!strict || report.ok(), ValueError, where, ": strict load, but ", report.to_string());

  std::vector<OptionMap> options;
  const json& saved_groups = j["groups"];
  for (size_t i = 0; i < groups_.size(); ++i) {
    // The saved group holding most of this group's parameters; by position when none holds any.
    int64_t best = -1, best_overlap = 0;
    for (size_t k = 0; k < saved_groups.size(); ++k) {
      int64_t overlap = 0;
      for (const json& name : saved_groups[k]["params"])
        for (const auto& [own, p] : groups_[i].params) overlap += (own == name.get<std::string>());
      if (overlap > best_overlap) best = static_cast<int64_t>(k), best_overlap = overlap;
    }
    if (best < 0 && i < saved_groups.size()) best = static_cast<int64_t>(i);
    OptionMap resolved = groups_[i].options;
    if (best >= 0) {
      for (const auto& [option, value] : saved_groups[best]["options"].items()) {
        if (!resolved.contains(option)) continue;  // an option this version no longer has
        resolved.insert_or_assign(
            option, option_from_json(value, resolved.at(option).type(), where, option));
      }
      validate(resolved);
    }
    options.push_back(std::move(resolved));
  }

  for (size_t i = 0; i < groups_.size(); ++i) groups_[i].options = std::move(options[i]);
  state_ = std::move(loaded);
  steps_ = j.value("steps", int64_t{0});
  skipped_steps_ = j.value("skipped_steps", int64_t{0});
  last_step_skipped_ = false;
  if (oracle_) oracle_->load(dict);
  return report;
}

void Optimizer::to(Device device) {
  for (auto& [name, s] : state_)
    for (auto& [slot, t] : s.tensors()) t = core::to(t, device);
  if (oracle_) oracle_->to(device);
}

NamedTensors numbered(const std::vector<Tensor>& params, int64_t first) {
  NamedTensors named;
  for (size_t i = 0; i < params.size(); ++i)
    named.emplace_back(std::to_string(first + static_cast<int64_t>(i)), params[i]);
  return named;
}

}  // namespace nabla::optim
