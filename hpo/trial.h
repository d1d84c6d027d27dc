// The trial an objective receives: define-by-run suggestions, intermediate reports, the pruning
// question and user attributes. Every change goes to storage as it happens.
#pragma once

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hpo/frozen_trial.h"
#include "hpo/sampler.h"
#include "hpo/search_space.h"

namespace nabla::hpo {

struct StudyState;

struct FloatOptions {
  bool log = false;
  std::optional<double> step{};
};

struct IntOptions {
  bool log = false;
  int64_t step = 1;
};

namespace detail {
// The value type a categorical of choices T returns: text as std::string, integers as int64_t.
template <class T>
using categorical_t = std::conditional_t<
    std::same_as<T, bool>, bool,
    std::conditional_t<std::integral<T>, int64_t,
                       std::conditional_t<std::floating_point<T>, double, std::string>>>;
}  // namespace detail

class Trial {
 public:
  int64_t number() const { return frozen_.number; }
  int64_t id() const { return frozen_.id; }

  // The same name asked twice in one trial returns the same value; asked with another
  // distribution, it is a ValueError.
  double suggest_float(const std::string& name, double low, double high, FloatOptions options = {});
  int64_t suggest_int(const std::string& name, int64_t low, int64_t high, IntOptions options = {});
  ParamValue suggest_categorical(const std::string& name, std::vector<ParamValue> choices);
  // suggest_categorical("optimizer", {"sgd", "adam"}) returns a std::string;
  // suggest_categorical("batch", {32, 64, 128}) an int64_t.
  template <class T>
  detail::categorical_t<T> suggest_categorical(const std::string& name,
                                               std::initializer_list<T> choices) {
    return typed_categorical<T>(name, choices.begin(), choices.end());
  }
  template <class T>
  detail::categorical_t<T> suggest_categorical(const std::string& name,
                                               const std::vector<T>& choices) {
    return typed_categorical<T>(name, choices.begin(), choices.end());
  }

  // One value per objective; a step reported twice keeps the first value, as Optuna does.
  void report(int64_t step, double value);
  void report(int64_t step, const std::vector<double>& values);
  // Asks the study's pruner about the last report.
  bool should_prune();

  void set_user_attr(const std::string& key, const nlohmann::json& value);

  const std::map<std::string, ParamValue>& params() const { return frozen_.params; }
  const FrozenTrial& frozen() const { return frozen_; }
  // The trials this one learns from (Note [visible history] in sampler.h).
  const std::vector<TrialPtr>& history() const { return history_; }

 private:
  friend class Study;
  Trial(std::shared_ptr<StudyState> study, TrialPtr created, std::vector<TrialPtr> history);
  SamplerContext context(int64_t attempt = 0) const;

  template <class T, class It>
  detail::categorical_t<T> typed_categorical(const std::string& name, It begin, It end) {
    using Out = detail::categorical_t<T>;
    std::vector<ParamValue> values;
    for (It it = begin; it != end; ++it) values.emplace_back(Out(*it));
    return std::get<Out>(suggest_categorical(name, std::move(values)));
  }

  ParamValue suggest(const std::string& name, const Distribution& d);
  // Samples the relative space up front, and, for a discrete space already partly explored,
  // a configuration not tried yet (Note [no repeated configurations] in trial.cpp).
  void presample();

  std::shared_ptr<StudyState> study_;
  FrozenTrial frozen_;  // this process's copy, kept in step with storage
  std::vector<TrialPtr> history_;
  IncrementalSearchSpace::Result space_;     // of history_
  std::map<std::string, ParamValue> fixed_;  // from enqueue_trial
  SearchSpace presampled_space_;
  std::map<std::string, double> presampled_;  // internal values
};

}  // namespace nabla::hpo
