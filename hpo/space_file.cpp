// Search spaces from JSON, and suggesting a whole configuration from one.
#include "hpo/space_file.h"

#include <algorithm>

#include "core/error.h"

namespace nabla::hpo {

namespace {

std::optional<double> as_number(const ParamValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  return std::nullopt;
}

// JSON may name an int parameter's value as 1.0: numbers compare by value.
bool same_value(const ParamValue& a, const ParamValue& b) {
  auto x = as_number(a), y = as_number(b);
  return x && y ? *x == *y : a == b;
}

}  // namespace

std::vector<ParamSpec> parse_search_space(const nlohmann::ordered_json& document) {
  NABLA_CHECK(document.is_object() && !document.empty(), ValueError,
              "search space: expected an object of parameters, got ", document.dump());
  std::vector<ParamSpec> space;
  for (const auto& [name, entry] : document.items()) {
    NABLA_CHECK(entry.is_object(), ValueError, "search space: parameter '", name,
                "' must be an object with a \"type\", got ", entry.dump());
    nlohmann::json distribution = nlohmann::json::parse(entry.dump());
    distribution.erase("if");
    distribution["name"] = name;
    ParamSpec spec{name, distribution_from_json(distribution), {}};
    if (entry.contains("if")) {
      NABLA_CHECK(entry["if"].is_object(), ValueError, "search space: '", name,
                  "': \"if\" must map parameter names to values, got ", entry["if"].dump());
      for (const auto& [other, wanted] : entry["if"].items()) {
        const bool known = std::any_of(space.begin(), space.end(),
                                       [&](const ParamSpec& s) { return s.name == other; });
        NABLA_CHECK(known, ValueError, "search space: '", name, "' depends on '", other,
                    "', which is not listed before it");
        std::vector<ParamValue> values;
        if (wanted.is_array())
          for (const auto& v : wanted) values.push_back(param_value_from_json(v));
        else
          values.push_back(param_value_from_json(wanted));
        spec.conditions[other] = std::move(values);
      }
    }
    space.push_back(std::move(spec));
  }
  return space;
}

std::map<std::string, ParamValue> suggest_all(Trial& trial, const std::vector<ParamSpec>& space) {
  std::map<std::string, ParamValue> chosen;
  for (const auto& spec : space) {
    const bool active =
        std::all_of(spec.conditions.begin(), spec.conditions.end(), [&](const auto& condition) {
          auto it = chosen.find(condition.first);
          if (it == chosen.end()) return false;
          const auto& allowed = condition.second;
          return std::any_of(allowed.begin(), allowed.end(),
                             [&](const ParamValue& v) { return same_value(v, it->second); });
        });
    if (!active) continue;
    if (const auto* f = std::get_if<FloatDistribution>(&spec.distribution))
      chosen[spec.name] = trial.suggest_float(spec.name, f->low, f->high, {f->log, f->step});
    else if (const auto* i = std::get_if<IntDistribution>(&spec.distribution))
      chosen[spec.name] = trial.suggest_int(spec.name, i->low, i->high, {i->log, i->step});
    else
      chosen[spec.name] = trial.suggest_categorical(
          spec.name, std::get<CategoricalDistribution>(spec.distribution).choices);
  }
  return chosen;
}

}  // namespace nabla::hpo
