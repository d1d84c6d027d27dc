// Option values: typed access, conversion between types (command-line text included), resolving
// overrides against specs, and the checks that Options::validate() uses.
#include "optim/options.h"

#include <charconv>
#include <cmath>
#include <sstream>

namespace nabla::optim {

const char* name(OptionType type) {
  switch (type) {
    case OptionType::real:
      return "real";
    case OptionType::integer:
      return "integer";
    case OptionType::boolean:
      return "boolean";
    case OptionType::text:
      return "text";
    case OptionType::integers:
      return "integer list";
  }
  return "?";
}

namespace {

[[noreturn]] void wrong_type(const OptionValue& value, OptionType wanted) {
  throw ValueError(detail::concat("OptionValue: holds the ", name(value.type()), " '", value.str(),
                                  "', not a ", name(wanted)));
}

template <class T>
bool parse_number(std::string_view text, T& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Text from the command line in the type an option wants; false when it does not parse.
bool parse_text(const std::string& text, OptionType type, OptionValue& out) {
  std::string_view s = trim(text);
  switch (type) {
    case OptionType::real: {
      double v;
      if (!parse_number(s, v)) return false;
      out = OptionValue(v);
      return true;
    }
    case OptionType::integer: {
      int64_t v;
      if (!parse_number(s, v)) return false;
      out = OptionValue(v);
      return true;
    }
    case OptionType::boolean:
      if (s != "true" && s != "1" && s != "false" && s != "0") return false;
      out = OptionValue(s == "true" || s == "1");
      return true;
    case OptionType::text:
      out = OptionValue(text);
      return true;
    case OptionType::integers: {
      std::vector<int64_t> values;
      while (!s.empty()) {
        size_t comma = s.find(',');
        int64_t v;
        if (!parse_number(trim(s.substr(0, comma)), v)) return false;
        values.push_back(v);
        if (comma == std::string_view::npos) break;
        s.remove_prefix(comma + 1);
      }
      out = OptionValue(std::move(values));
      return true;
    }
  }
  return false;
}

}  // namespace

double OptionValue::real() const {
  if (type() != OptionType::real) wrong_type(*this, OptionType::real);
  return std::get<double>(value_);
}

int64_t OptionValue::integer() const {
  if (type() != OptionType::integer) wrong_type(*this, OptionType::integer);
  return std::get<int64_t>(value_);
}

bool OptionValue::boolean() const {
  if (type() != OptionType::boolean) wrong_type(*this, OptionType::boolean);
  return std::get<bool>(value_);
}

const std::string& OptionValue::text() const {
  if (type() != OptionType::text) wrong_type(*this, OptionType::text);
  return std::get<std::string>(value_);
}

const std::vector<int64_t>& OptionValue::integers() const {
  if (type() != OptionType::integers) wrong_type(*this, OptionType::integers);
  return std::get<std::vector<int64_t>>(value_);
}

OptionValue OptionValue::as(OptionType wanted, std::string_view owner,
                            std::string_view option) const {
  if (type() == wanted) return *this;
  if (wanted == OptionType::real && type() == OptionType::integer)
    return OptionValue(static_cast<double>(integer()));
  if (wanted == OptionType::integer && type() == OptionType::real) {
    double v = real();
    if (std::isfinite(v) && v == std::round(v) && std::fabs(v) < 9.0e18)
      return OptionValue(static_cast<int64_t>(v));
  }
  if (wanted == OptionType::integers && type() == OptionType::integer)
    return OptionValue(std::vector<int64_t>{integer()});
  OptionValue parsed = false;
  if (type() == OptionType::text && parse_text(text(), wanted, parsed)) return parsed;
  throw ValueError(detail::concat(owner, ": option '", option, "' takes a ", name(wanted),
                                  ", got the ", name(type()), " '", str(), "'"));
}

std::string OptionValue::str() const {
  std::ostringstream os;
  switch (type()) {
    case OptionType::real:
      os << std::get<double>(value_);
      break;
    case OptionType::integer:
      os << std::get<int64_t>(value_);
      break;
    case OptionType::boolean:
      os << (std::get<bool>(value_) ? "true" : "false");
      break;
    case OptionType::text:
      os << std::get<std::string>(value_);
      break;
    case OptionType::integers: {
      const auto& values = std::get<std::vector<int64_t>>(value_);
      for (size_t i = 0; i < values.size(); ++i) os << (i ? "," : "") << values[i];
      break;
    }
  }
  return os.str();
}

const OptionSpec* find_spec(const std::vector<OptionSpec>& specs, std::string_view name) {
  for (const OptionSpec& spec : specs)
    if (spec.name == name) return &spec;
  return nullptr;
}

std::string option_names(const std::vector<OptionSpec>& specs) {
  std::string names;
  for (const OptionSpec& spec : specs) names += (names.empty() ? "" : ", ") + spec.name;
  return names;
}

OptionMap resolve_options(std::string_view owner, const std::vector<OptionSpec>& specs,
                          const OptionMap& overrides) {
  OptionMap resolved;
  for (const OptionSpec& spec : specs) resolved.insert_or_assign(spec.name, spec.default_value);
  for (const auto& [option, value] : overrides) {
    const OptionSpec* spec = find_spec(specs, option);
    NABLA_CHECK(spec != nullptr, ValueError, owner, ": unknown option '", option,
                "'; valid options: ", option_names(specs));
    resolved.insert_or_assign(option, value.as(spec->type, owner, option));
  }
  return resolved;
}

std::vector<OptionSpec> with_defaults(std::string_view owner, std::vector<OptionSpec> specs,
                                      const OptionMap& defaults) {
  OptionMap resolved = resolve_options(owner, specs, defaults);
  for (OptionSpec& spec : specs) spec.default_value = resolved.at(spec.name);
  return specs;
}

void check_at_least(std::string_view owner, std::string_view option, double value, double min) {
  NABLA_CHECK(value >= min, ValueError, owner, ": ", option, " must be >= ", min, ", got ", value);
}

void check_positive(std::string_view owner, std::string_view option, double value) {
  NABLA_CHECK(value > 0, ValueError, owner, ": ", option, " must be > 0, got ", value);
}

void check_unit_interval(std::string_view owner, std::string_view option, double value) {
  NABLA_CHECK(value >= 0 && value < 1, ValueError, owner, ": ", option, " must be in [0, 1), got ",
              value);
}

void check_one_of(std::string_view owner, std::string_view option, const std::string& value,
                  std::initializer_list<std::string_view> allowed) {
  std::string names;
  for (std::string_view a : allowed) {
    if (value == a) return;
    names += (names.empty() ? "" : ", ") + std::string(a);
  }
  throw ValueError(
      detail::concat(owner, ": ", option, " must be one of ", names, ", got '", value, "'"));
}

}  // namespace nabla::optim
