// Suggestions (fixed, presampled, sampled), reports and pruning for one trial.
#include "hpo/trial.h"

#include <cmath>
#include <set>

#include "core/error.h"
#include "hpo/study.h"

namespace nabla::hpo {

namespace {

std::string describe(const Distribution& d) { return to_json(d).dump(); }

// Every internal value a discrete distribution takes.
std::vector<double> points_of(const Distribution& d) {
  std::vector<double> points;
  const int64_t n = *cardinality(d);
  for (int64_t i = 0; i < n; ++i) {
    if (const auto* f = std::get_if<FloatDistribution>(&d))
      points.push_back(f->step ? f->low + static_cast<double>(i) * *f->step : f->low);
    else if (const auto* in = std::get_if<IntDistribution>(&d))
      points.push_back(static_cast<double>(in->low + i * in->step));
    else
      points.push_back(static_cast<double>(i));
  }
  return points;
}

}  // namespace

Trial::Trial(std::shared_ptr<StudyState> study, TrialPtr created, std::vector<TrialPtr> history)
    : study_(std::move(study)),
      frozen_(*created),
      history_(std::move(history)),
      space_(study_->search_space.update(history_)) {
  if (auto it = frozen_.system_attrs.find("fixed_params"); it != frozen_.system_attrs.end())
    for (const auto& [param, value] : it->items()) fixed_[param] = param_value_from_json(value);
  presample();
}

// Note [no repeated configurations]: when every complete trial so far has the same discrete,
// unconditional parameters, a configuration already evaluated teaches nothing new. The trial then
// asks the sampler again (fresh streams) and, if the sampler keeps returning tried points, draws
// one of the untried points uniformly. The whole configuration is fixed here, before the objective
// asks for its first parameter; a trial whose objective asks otherwise samples as usual.
SamplerContext Trial::context(int64_t attempt) const {
  return {.history = history_,
          .trial = frozen_,
          .directions = study_->directions,
          .study_id = study_->id,
          .storage = *study_->storage,
          .attempt = attempt,
          .intersection = &space_.space};
}

void Trial::presample() {
  Sampler& sampler = *study_->sampler;
  presampled_space_ = sampler.infer_relative_search_space(context(0));
  for (const auto& [param, value] : fixed_) presampled_space_.erase(param);
  if (!presampled_space_.empty())
    presampled_ = sampler.sample_relative(context(0), presampled_space_);
  if (!fixed_.empty()) return;

  const SearchSpace& space = space_.space;
  if (space.empty() || space_.conditional) return;
  const auto size = space_size(space, 10'000'000);
  if (!size) return;
  std::set<std::vector<double>> tried;
  for (const auto& t : history_) {
    if (t->state != TrialState::complete && t->state != TrialState::pruned) continue;
    std::vector<double> point;
    for (const auto& [param, d] : space) {
      auto v = t->internal_value(param, d);
      if (!v) break;
      point.push_back(*v);
    }
    if (point.size() == space.size()) tried.insert(point);
  }
  if (tried.empty() || static_cast<int64_t>(tried.size()) >= *size) return;

  auto propose = [&](int64_t attempt) {
    std::map<std::string, double> proposal;
    if (attempt > 0 && !presampled_space_.empty())
      proposal = sampler.sample_relative(context(attempt), presampled_space_);
    else
      proposal = presampled_;
    for (const auto& [param, d] : space) {
      auto it = proposal.find(param);
      auto in_space = presampled_space_.find(param);
      if (it == proposal.end() || in_space == presampled_space_.end() || !(in_space->second == d))
        proposal[param] = sampler.sample_independent(context(attempt), param, d);
      proposal[param] = snap(d, proposal[param]);
    }
    return proposal;
  };
  auto point_of = [&](const std::map<std::string, double>& proposal) {
    std::vector<double> point;
    for (const auto& [param, d] : space) point.push_back(proposal.at(param));
    return point;
  };
  auto adopt = [&](std::map<std::string, double> proposal) {
    for (const auto& [param, d] : space) presampled_space_[param] = d;
    presampled_ = std::move(proposal);
  };

  constexpr int64_t kAttempts = 16;
  for (int64_t attempt = 0; attempt < kAttempts; ++attempt) {
    auto proposal = propose(attempt);
    if (!tried.contains(point_of(proposal))) return adopt(std::move(proposal));
  }
  if (*size > 100'000) return;
  // The untried points, in mixed-radix order over the space's parameters.
  std::vector<std::vector<double>> axes;
  for (const auto& [param, d] : space) axes.push_back(points_of(d));
  std::vector<std::vector<double>> untried;
  std::vector<size_t> index(axes.size(), 0);
  for (int64_t n = 0; n < *size; ++n) {
    std::vector<double> point;
    for (size_t a = 0; a < axes.size(); ++a) point.push_back(axes[a][index[a]]);
    if (!tried.contains(point)) untried.push_back(std::move(point));
    for (size_t a = 0; a < axes.size() && ++index[a] == axes[a].size(); ++a) index[a] = 0;
  }
  Rng rng = Rng::keyed(sampler.seed(), frozen_.number, "untried configuration");
  const auto& chosen =
      untried[static_cast<size_t>(rng.integer(static_cast<int64_t>(untried.size())))];
  std::map<std::string, double> proposal;
  size_t a = 0;
  for (const auto& [param, d] : space) proposal[param] = chosen[a++];
  adopt(std::move(proposal));
}

ParamValue Trial::suggest(const std::string& param, const Distribution& d) {
  if (auto it = frozen_.params.find(param); it != frozen_.params.end()) {
    const Distribution& before = frozen_.distributions.at(param);
    NABLA_CHECK(before == d, ValueError, "Trial::suggest: '", param, "' was suggested in trial ",
                frozen_.number, " as ", describe(before), " and now as ", describe(d));
    return it->second;
  }
  ParamValue value;
  if (auto fixed = fixed_.find(param); fixed != fixed_.end()) {
    auto internal = to_internal(d, fixed->second);
    NABLA_CHECK(internal, ValueError, "enqueue_trial: parameter '", param,
                "' = ", to_string(fixed->second), " of trial ", frozen_.number, " is not in ",
                describe(d));
    value = to_external(d, *internal);
  } else if (auto pre = presampled_.find(param); pre != presampled_.end() &&
                                                 presampled_space_.contains(param) &&
                                                 presampled_space_.at(param) == d) {
    value = to_external(d, pre->second);
  } else if (is_single(d)) {
    value = to_external(d, 0.0);
  } else {
    value = to_external(d, study_->sampler->sample_independent(context(), param, d));
  }
  study_->storage->set_trial_param(frozen_.id, param, value, d);
  frozen_.params[param] = value;
  frozen_.distributions[param] = d;
  return value;
}

double Trial::suggest_float(const std::string& name, double low, double high,
                            FloatOptions options) {
  return std::get<double>(suggest(name, make_float(name, low, high, options.log, options.step)));
}

int64_t Trial::suggest_int(const std::string& name, int64_t low, int64_t high, IntOptions options) {
  return std::get<int64_t>(suggest(name, make_int(name, low, high, options.log, options.step)));
}

ParamValue Trial::suggest_categorical(const std::string& name, std::vector<ParamValue> choices) {
  return suggest(name, make_categorical(name, std::move(choices)));
}

void Trial::report(int64_t step, double value) { report(step, std::vector<double>{value}); }

void Trial::report(int64_t step, const std::vector<double>& values) {
  NABLA_CHECK(values.size() == study_->directions.size(), ValueError, "Trial::report: trial ",
              frozen_.number, " reported ", values.size(), " values at step ", step,
              " for a study of ", study_->directions.size(), " objectives");
  NABLA_CHECK(step >= 0, ValueError, "Trial::report: steps are >= 0, got ", step);
  if (frozen_.intermediate_values.contains(step)) return;
  study_->storage->set_trial_intermediate_value(frozen_.id, step, values);
  frozen_.intermediate_values[step] = values;
}

bool Trial::should_prune() {
  if (frozen_.intermediate_values.empty()) return false;
  return study_->pruner->prune(PrunerContext{history_, frozen_, study_->directions});
}

void Trial::set_user_attr(const std::string& key, const nlohmann::json& value) {
  study_->storage->set_trial_user_attr(frozen_.id, key, value);
  frozen_.user_attrs[key] = value;
}

}  // namespace nabla::hpo
