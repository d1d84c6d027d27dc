// The optimizer registry and the explicit registration of the built-in optimizers.
#include "optim/registry.h"

#include "optim/rules/rules.h"

namespace nabla::optim {

const char* name(Family family) {
  switch (family) {
    case Family::gradient:
      return "gradient";
    case Family::adaptive:
      return "adaptive";
    case Family::sign:
      return "sign";
    case Family::trust_ratio:
      return "trust_ratio";
    case Family::simplex:
      return "simplex";
    case Family::second_order:
      return "second_order";
  }
  return "?";
}

void OptimizerRegistry::add(OptimizerInfo info) {
  std::lock_guard lock(mutex_);
  NABLA_CHECK(!info.name.empty() && info.factory, ValueError,
              "OptimizerRegistry::add: an optimizer needs a name and a factory");
  NABLA_CHECK(!entries_.contains(info.name), ValueError, "OptimizerRegistry::add: '", info.name,
              "' is already registered");
  std::string key = info.name;
  entries_.emplace(std::move(key), std::move(info));
}

bool OptimizerRegistry::contains(std::string_view name) const {
  std::lock_guard lock(mutex_);
  return entries_.contains(name);
}

OptimizerInfo OptimizerRegistry::find(std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(name);
  if (it != entries_.end()) return it->second;
  std::string names;
  for (const auto& [known, info] : entries_) names += (names.empty() ? "" : ", ") + known;
  throw ValueError(detail::concat("optim::create: unknown optimizer '", name,
                                  "'; registered optimizers: ", names));
}

std::vector<OptimizerInfo> OptimizerRegistry::list() const {
  std::lock_guard lock(mutex_);
  std::vector<OptimizerInfo> all;
  for (const auto& [name, info] : entries_) all.push_back(info);
  return all;
}

OptimizerRegistry& optimizer_registry() {
  static OptimizerRegistry registry;
  static std::once_flag registered;
  std::call_once(registered, [] { register_builtin_optimizers(registry); });
  return registry;
}

void register_oracle(OptimizerRegistry& registry, const std::string& name, const std::string& help,
                     Family family, std::vector<OptionSpec> specs, OracleFactory make) {
  registry.add({name, help, family, specs,
                [name, specs, make](NamedTensors params, const OptionMap& options) {
                  OptionMap own, rest;
                  for (const auto& [option, value] : options)
                    (find_spec(specs, option) ? own : rest).insert_or_assign(option, value);
                  OptionMap resolved = resolve_options(name, specs, own);
                  const std::string& base_name = resolved.at("base").text();
                  OptimizerInfo base = optimizer_registry().find(base_name);
                  for (const auto& [option, value] : rest) {
                    NABLA_CHECK(find_spec(base.options, option), ValueError, name,
                                ": unknown option '", option,
                                "'; valid options: ", option_names(specs), ", and those of ",
                                base_name, ": ", option_names(base.options));
                  }
                  std::unique_ptr<GradientOracle> oracle = make(resolved);
                  std::unique_ptr<Optimizer> optimizer = base.factory(std::move(params), rest);
                  NABLA_CHECK(optimizer->oracle() == nullptr, ValueError, name, ": the base '",
                              base_name, "' has an oracle of its own; oracles do not stack");
                  optimizer->set_oracle(std::move(oracle));
                  return optimizer;
                }});
}

std::vector<OptimizerInfo> registered_optimizers() { return optimizer_registry().list(); }

std::unique_ptr<Optimizer> create(std::string_view name, NamedTensors params,
                                  const OptionMap& options) {
  return optimizer_registry().find(name).factory(std::move(params), options);
}

std::unique_ptr<Optimizer> create(std::string_view name, const std::vector<Tensor>& params,
                                  const OptionMap& options) {
  return create(name, numbered(params), options);
}

}  // namespace nabla::optim
