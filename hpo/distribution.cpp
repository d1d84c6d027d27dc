// Distributions: checks, internal and external values, and their JSON form.
#include "hpo/distribution.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.h"

namespace nabla::hpo {

namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};

// Points low, low + step, ... up to high, measured with a tolerance for steps like 0.1.
int64_t grid_points(double low, double high, double step) {
  return static_cast<int64_t>(std::floor((high - low) / step + 1e-9)) + 1;
}

}  // namespace

std::string to_string(const ParamValue& value) {
  return std::visit(Overloaded{[](bool b) -> std::string { return b ? "true" : "false"; },
                               [](int64_t i) { return std::to_string(i); },
                               [](double d) {
                                 std::ostringstream os;
                                 os.precision(17);
                                 os << d;
                                 return os.str();
                               },
                               [](const std::string& s) { return s; }},
                    value);
}

nlohmann::json to_json(const ParamValue& value) {
  return std::visit([](const auto& v) { return nlohmann::json(v); }, value);
}

ParamValue param_value_from_json(const nlohmann::json& j) {
  if (j.is_boolean()) return j.get<bool>();
  if (j.is_number_integer()) return j.get<int64_t>();
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) return j.get<std::string>();
  throw ValueError("hpo: a parameter value must be a boolean, number or string, got " + j.dump());
}

FloatDistribution make_float(const std::string& name, double low, double high, bool log,
                             std::optional<double> step) {
  NABLA_CHECK(std::isfinite(low) && std::isfinite(high) && low <= high, ValueError,
              "suggest_float: '", name, "' needs finite low <= high, got [", low, ", ", high, "]");
  NABLA_CHECK(!log || low > 0, ValueError, "suggest_float: '", name,
              "' is log-scaled, so low must be > 0, got ", low);
  NABLA_CHECK(!(log && step), ValueError, "suggest_float: '", name,
              "' cannot have both log and step");
  if (step) {
    NABLA_CHECK(*step > 0 && std::isfinite(*step), ValueError, "suggest_float: '", name,
                "' needs step > 0, got ", *step);
    high = low + static_cast<double>(grid_points(low, high, *step) - 1) * *step;
  }
  return {low, high, log, step};
}

IntDistribution make_int(const std::string& name, int64_t low, int64_t high, bool log,
                         int64_t step) {
  NABLA_CHECK(low <= high, ValueError, "suggest_int: '", name, "' needs low <= high, got [", low,
              ", ", high, "]");
  NABLA_CHECK(step >= 1, ValueError, "suggest_int: '", name, "' needs step >= 1, got ", step);
  NABLA_CHECK(!log || low >= 1, ValueError, "suggest_int: '", name,
              "' is log-scaled, so low must be >= 1, got ", low);
  NABLA_CHECK(!log || step == 1, ValueError, "suggest_int: '", name,
              "' cannot have both log and step ", step);
  high = low + (high - low) / step * step;
  return {low, high, log, step};
}

CategoricalDistribution make_categorical(const std::string& name, std::vector<ParamValue> choices) {
  NABLA_CHECK(!choices.empty(), ValueError, "suggest_categorical: '", name, "' has no choices");
  for (size_t i = 0; i < choices.size(); ++i)
    for (size_t j = i + 1; j < choices.size(); ++j)
      NABLA_CHECK(choices[i] != choices[j], ValueError, "suggest_categorical: '", name,
                  "' lists the choice ", to_string(choices[i]), " twice");
  return {std::move(choices)};
}

std::optional<double> to_internal(const Distribution& d, const ParamValue& value) {
  return std::visit(Overloaded{[&](const FloatDistribution& f) -> std::optional<double> {
                                 double x;
                                 if (const auto* v = std::get_if<double>(&value))
                                   x = *v;
                                 else if (const auto* i = std::get_if<int64_t>(&value))
                                   x = static_cast<double>(*i);
                                 else
                                   return std::nullopt;
                                 if (!(x >= f.low && x <= f.high)) return std::nullopt;
                                 if (f.step) {
                                   const double k = (x - f.low) / *f.step;
                                   if (std::abs(k - std::round(k)) > 1e-6) return std::nullopt;
                                 }
                                 return x;
                               },
                               [&](const IntDistribution& d) -> std::optional<double> {
                                 const auto* v = std::get_if<int64_t>(&value);
                                 if (!v || *v < d.low || *v > d.high || (*v - d.low) % d.step != 0)
                                   return std::nullopt;
                                 return static_cast<double>(*v);
                               },
                               [&](const CategoricalDistribution& c) -> std::optional<double> {
                                 auto it = std::find(c.choices.begin(), c.choices.end(), value);
                                 if (it == c.choices.end()) return std::nullopt;
                                 return static_cast<double>(it - c.choices.begin());
                               }},
                    d);
}

double snap(const Distribution& d, double internal) {
  return std::visit(
      Overloaded{
          [&](const FloatDistribution& f) {
            double x = std::clamp(internal, f.low, f.high);
            if (f.step) x = std::min(f.high, f.low + std::round((x - f.low) / *f.step) * *f.step);
            return x;
          },
          [&](const IntDistribution& i) {
            const double k =
                std::round((internal - static_cast<double>(i.low)) / static_cast<double>(i.step));
            const double x = static_cast<double>(i.low) + k * static_cast<double>(i.step);
            return std::clamp(x, static_cast<double>(i.low), static_cast<double>(i.high));
          },
          [&](const CategoricalDistribution& c) {
            return std::clamp(std::round(internal), 0.0, static_cast<double>(c.choices.size() - 1));
          }},
      d);
}

ParamValue to_external(const Distribution& d, double internal) {
  const double x = snap(d, internal);
  return std::visit(
      Overloaded{[&](const FloatDistribution&) -> ParamValue { return x; },
                 [&](const IntDistribution&) -> ParamValue { return static_cast<int64_t>(x); },
                 [&](const CategoricalDistribution& c) -> ParamValue {
                   return c.choices[static_cast<size_t>(x)];
                 }},
      d);
}

std::optional<int64_t> cardinality(const Distribution& d) {
  return std::visit(Overloaded{[](const FloatDistribution& f) -> std::optional<int64_t> {
                                 if (f.low == f.high) return 1;
                                 if (!f.step) return std::nullopt;
                                 return grid_points(f.low, f.high, *f.step);
                               },
                               [](const IntDistribution& i) -> std::optional<int64_t> {
                                 return (i.high - i.low) / i.step + 1;
                               },
                               [](const CategoricalDistribution& c) -> std::optional<int64_t> {
                                 return static_cast<int64_t>(c.choices.size());
                               }},
                    d);
}

bool is_single(const Distribution& d) { return cardinality(d) == 1; }

nlohmann::json to_json(const Distribution& d) {
  return std::visit(
      Overloaded{[](const FloatDistribution& f) {
                   nlohmann::json j = {
                       {"type", "float"}, {"low", f.low}, {"high", f.high}, {"log", f.log}};
                   if (f.step) j["step"] = *f.step;
                   return j;
                 },
                 [](const IntDistribution& i) {
                   return nlohmann::json{{"type", "int"},
                                         {"low", i.low},
                                         {"high", i.high},
                                         {"log", i.log},
                                         {"step", i.step}};
                 },
                 [](const CategoricalDistribution& c) {
                   nlohmann::json choices = nlohmann::json::array();
                   for (const auto& v : c.choices) choices.push_back(to_json(v));
                   return nlohmann::json{{"type", "categorical"}, {"choices", choices}};
                 }},
      d);
}

Distribution distribution_from_json(const nlohmann::json& j) {
  NABLA_CHECK(j.is_object() && j.contains("type") && j["type"].is_string(), ValueError,
              "hpo: a distribution needs a \"type\" (float, int or categorical), got ", j.dump());
  const std::string type = j["type"];
  const std::string name = j.value("name", std::string("parameter"));
  try {
    if (type == "float") {
      std::optional<double> step;
      if (j.contains("step") && !j["step"].is_null()) step = j["step"].get<double>();
      return make_float(name, j.at("low").get<double>(), j.at("high").get<double>(),
                        j.value("log", false), step);
    }
    if (type == "int")
      return make_int(name, j.at("low").get<int64_t>(), j.at("high").get<int64_t>(),
                      j.value("log", false), j.value("step", int64_t{1}));
    if (type == "categorical") {
      NABLA_CHECK(j.contains("choices") && j["choices"].is_array(), ValueError,
                  "hpo: a categorical distribution needs a \"choices\" array, got ", j.dump());
      std::vector<ParamValue> choices;
      for (const auto& c : j["choices"]) choices.push_back(param_value_from_json(c));
      return make_categorical(name, std::move(choices));
    }
  } catch (const nlohmann::json::exception& e) {
    throw ValueError("hpo: malformed " + type + " distribution " + j.dump() + ": " + e.what());
  }
  throw ValueError("hpo: unknown distribution type '" + type +
                   "' (expected float, int or categorical)");
}

}  // namespace nabla::hpo
