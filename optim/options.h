// Typed options for optimizers and schedules: values, specs (name, type, default, help), and the
// field table that binds a C++ Options struct to those names for the registry, the CLI and HPO.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <variant>
#include <vector>

#include "core/error.h"

namespace nabla::optim {

enum class OptionType : uint8_t { real, integer, boolean, text, integers };
const char* name(OptionType type);

// One option's value. Built implicitly from a literal, so option lists read like
// {{"lr", 3e-3}, {"nesterov", true}, {"mode", "max"}, {"milestones", {30, 60}}}.
class OptionValue {
 public:
  OptionValue(double value) : value_(value) {}
  OptionValue(int value) : value_(int64_t{value}) {}
  OptionValue(int64_t value) : value_(value) {}
  OptionValue(bool value) : value_(value) {}
  OptionValue(const char* value) : value_(std::string(value)) {}
  OptionValue(std::string value) : value_(std::move(value)) {}
  OptionValue(std::vector<int64_t> value) : value_(std::move(value)) {}
  OptionValue(std::initializer_list<int64_t> value) : value_(std::vector<int64_t>(value)) {}

  OptionType type() const { return static_cast<OptionType>(value_.index()); }
  // The value, which must have that type (a ValueError otherwise).
  double real() const;
  int64_t integer() const;
  bool boolean() const;
  const std::string& text() const;
  const std::vector<int64_t>& integers() const;

  // This value as `type`, for option `option` of `owner`: an integer widens to a real, a whole
  // real narrows to an integer, and text parses ("3e-3", "true", "30,60"), so command-line
  // strings work. Anything else is a ValueError naming both.
  OptionValue as(OptionType type, std::string_view owner, std::string_view option) const;

  // How the command line would write it: 0.001, true, max, 30,60.
  std::string str() const;
  friend bool operator==(const OptionValue&, const OptionValue&) = default;

 private:
  std::variant<double, int64_t, bool, std::string, std::vector<int64_t>> value_;
};

// Options by name. A group's options always hold every option of its optimizer, typed.
using OptionMap = std::map<std::string, OptionValue, std::less<>>;

struct OptionSpec {
  std::string name;
  OptionType type;
  OptionValue default_value;
  std::string help;
};

// The defaults of `specs`, overridden by `overrides`, each converted to its spec's type. An
// option `specs` lacks is a ValueError that lists the valid ones.
OptionMap resolve_options(std::string_view owner, const std::vector<OptionSpec>& specs,
                          const OptionMap& overrides);
// `specs` with their defaults replaced by `defaults` (checked as in resolve_options).
std::vector<OptionSpec> with_defaults(std::string_view owner, std::vector<OptionSpec> specs,
                                      const OptionMap& defaults);
// The spec named `name`; null when there is none.
const OptionSpec* find_spec(const std::vector<OptionSpec>& specs, std::string_view name);
// "lr, beta1, beta2": for error messages.
std::string option_names(const std::vector<OptionSpec>& specs);

// ---- The field table: Options structs describe themselves once ----
//   static auto fields() { return std::tuple{Field{"lr", &Options::lr, "learning rate"}, ...}; }
template <class Owner, class T>
struct Field {
  const char* name;
  T Owner::*member;
  const char* help;
};
template <class Owner, class T>
Field(const char*, T Owner::*, const char*) -> Field<Owner, T>;

namespace internal {
template <class T>
constexpr OptionType option_type_of() {
  if constexpr (std::is_same_v<T, double>) return OptionType::real;
  if constexpr (std::is_same_v<T, int64_t>) return OptionType::integer;
  if constexpr (std::is_same_v<T, bool>) return OptionType::boolean;
  if constexpr (std::is_same_v<T, std::string>) return OptionType::text;
  if constexpr (std::is_same_v<T, std::vector<int64_t>>) return OptionType::integers;
}

template <class T>
T get(const OptionValue& value) {
  if constexpr (std::is_same_v<T, double>) return value.real();
  if constexpr (std::is_same_v<T, int64_t>) return value.integer();
  if constexpr (std::is_same_v<T, bool>) return value.boolean();
  if constexpr (std::is_same_v<T, std::string>) return value.text();
  if constexpr (std::is_same_v<T, std::vector<int64_t>>) return value.integers();
}
}  // namespace internal

// The specs of Options, with the defaults of a default-constructed Options.
template <class Options>
std::vector<OptionSpec> option_specs() {
  std::vector<OptionSpec> specs;
  const Options defaults{};
  std::apply(
      [&](const auto&... field) {
        (specs.push_back(
             {field.name,
              internal::option_type_of<std::remove_cvref_t<decltype(defaults.*field.member)>>(),
              OptionValue(defaults.*field.member), field.help}),
         ...);
      },
      Options::fields());
  return specs;
}

// An Options struct from a complete, typed option map (resolve_options made it).
template <class Options>
Options read_options(const OptionMap& values) {
  Options options{};
  std::apply(
      [&](const auto&... field) {
        ((options.*field.member =
              internal::get<std::remove_cvref_t<decltype(options.*field.member)>>(
                  values.at(field.name))),
         ...);
      },
      Options::fields());
  return options;
}

// Writes `options` back into `values`: for rules that learn an option (hypergradient's lr).
template <class Options>
void write_options(const Options& options, OptionMap& values) {
  std::apply(
      [&](const auto&... field) {
        ((values.insert_or_assign(field.name, OptionValue(options.*field.member))), ...);
      },
      Options::fields());
}

// ---- Checks for validate(): each throws a ValueError "<owner>: <option> must be ..., got v" ----
void check_at_least(std::string_view owner, std::string_view option, double value, double min);
void check_positive(std::string_view owner, std::string_view option, double value);
// 0 <= value < 1: decay rates, momentum.
void check_unit_interval(std::string_view owner, std::string_view option, double value);
void check_one_of(std::string_view owner, std::string_view option, const std::string& value,
                  std::initializer_list<std::string_view> allowed);

}  // namespace nabla::optim
