// BOHB: Hyperband with the model's proposals enqueued (Note [bohb proposals]).
#include "hpo/schedulers/bohb.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "core/error.h"
#include "hpo/pruners/ranking.h"
#include "hpo/schedulers/bohb_kde.h"

namespace nabla::hpo {

namespace {

// How one parameter maps to a coordinate of the model's box.
struct Axis {
  std::string name;
  Distribution distribution;
  int64_t n_choices = 0;  // categorical: its choices; otherwise 0
  bool log = false;
  double low = 0, high = 1;  // the interval (in log space when log) mapped onto [0, 1]
};

Axis axis_of(const std::string& name, const Distribution& d) {
  Axis a{.name = name, .distribution = d};
  if (const auto* f = std::get_if<FloatDistribution>(&d)) {
    const double half = f->step ? *f->step / 2 : 0;
    a.log = f->log;
    a.low = f->log ? std::log(f->low) : f->low - half;
    a.high = f->log ? std::log(f->high) : f->high + half;
  } else if (const auto* i = std::get_if<IntDistribution>(&d)) {
    const double half = static_cast<double>(i->step) / 2;
    a.log = i->log;
    a.low = static_cast<double>(i->low) - half;
    a.high = static_cast<double>(i->high) + half;
    if (a.log) {
      a.low = std::log(a.low);
      a.high = std::log(a.high);
    }
  } else {
    a.n_choices = static_cast<int64_t>(std::get<CategoricalDistribution>(d).choices.size());
  }
  return a;
}

double encode(const Axis& a, double internal) {
  if (a.n_choices > 0) return internal;
  const double t = a.log ? std::log(internal) : internal;
  return std::clamp((t - a.low) / (a.high - a.low), 0.0, 1.0);
}

ParamValue decode(const Axis& a, double u) {
  double internal = u;
  if (a.n_choices == 0) {
    const double t = a.low + u * (a.high - a.low);
    internal = a.log ? std::exp(t) : t;
  }
  return to_external(a.distribution, snap(a.distribution, internal));
}

bool finite(const std::vector<double>& values) {
  return std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); });
}

struct Observations {
  std::vector<Axis> axes;
  std::vector<std::vector<double>> points;  // encoded
  std::vector<std::vector<double>> values;  // the reports at the step
};

Observations observations_at(const std::vector<TrialPtr>& trials, int64_t step) {
  std::vector<const FrozenTrial*> reported;
  for (const auto& t : trials) {
    auto it = t->intermediate_values.find(step);
    if (it != t->intermediate_values.end() && finite(it->second)) reported.push_back(t.get());
  }
  Observations obs;
  if (reported.empty()) return obs;
  std::map<std::string, Distribution> space;
  for (const auto& [name, d] : reported[0]->distributions)
    if (!is_single(d)) space.emplace(name, d);
  for (const FrozenTrial* t : reported)
    std::erase_if(space, [&](const auto& entry) {
      auto it = t->distributions.find(entry.first);
      return it == t->distributions.end() || !(it->second == entry.second);
    });
  for (const auto& [name, d] : space) obs.axes.push_back(axis_of(name, d));
  for (const FrozenTrial* t : reported) {
    std::vector<double> point;
    for (const Axis& a : obs.axes)
      point.push_back(encode(a, *t->internal_value(a.name, a.distribution)));
    obs.points.push_back(std::move(point));
    obs.values.push_back(t->intermediate_values.at(step));
  }
  return obs;
}

void propose(Study& study, const std::vector<int64_t>& steps, const BohbOptions& options,
             uint64_t seed) {
  const std::vector<TrialPtr> trials = study.trials();
  Rng rng = Rng::keyed(seed, static_cast<int64_t>(trials.size()), "bohb");
  if (rng.uniform() < options.random_fraction) return;
  for (int64_t step : steps) {
    Observations obs = observations_at(trials, step);
    const auto d = static_cast<int64_t>(obs.axes.size());
    const int64_t n = static_cast<int64_t>(obs.points.size());
    const int64_t min_points =
        options.min_points_in_model > 0 ? options.min_points_in_model : d + 1;
    if (d == 0 || n < min_points + 2) continue;
    const auto order = ranking::rank_order(obs.values, study.directions());
    const KdeSplit split = bohb_split(n, options.top_fraction, min_points);
    std::vector<std::vector<double>> good, bad;
    for (int64_t k = 0; k < split.n_good; ++k)
      good.push_back(obs.points[order[static_cast<size_t>(k)]]);
    for (int64_t k = n - split.n_bad; k < n; ++k)
      bad.push_back(obs.points[order[static_cast<size_t>(k)]]);
    std::vector<KdeDimension> dims;
    for (const Axis& a : obs.axes) dims.push_back({.n_choices = a.n_choices});
    const ProductKde l(dims, std::move(good), options.min_bandwidth);
    const ProductKde g(dims, std::move(bad), options.min_bandwidth);
    const auto x = propose_by_ratio(l, g, options.n_samples, options.bandwidth_factor, rng);
    std::map<std::string, ParamValue> params;
    for (size_t j = 0; j < obs.axes.size(); ++j)
      params[obs.axes[j].name] = decode(obs.axes[j], x[j]);
    study.enqueue_trial(params);
    return;
  }
}

}  // namespace

void BohbOptions::validate() const {
  hyperband.validate();
  NABLA_CHECK(top_fraction > 0 && top_fraction < 1, ValueError,
              "bohb: top_fraction must be in (0, 1), got ", top_fraction);
  NABLA_CHECK(random_fraction >= 0 && random_fraction <= 1, ValueError,
              "bohb: random_fraction must be in [0, 1], got ", random_fraction);
  NABLA_CHECK(bandwidth_factor > 0, ValueError, "bohb: bandwidth_factor must be > 0, got ",
              bandwidth_factor);
  NABLA_CHECK(min_bandwidth > 0, ValueError, "bohb: min_bandwidth must be > 0, got ",
              min_bandwidth);
  NABLA_CHECK(n_samples >= 1, ValueError, "bohb: n_samples must be >= 1, got ", n_samples);
  NABLA_CHECK(min_points_in_model >= 0, ValueError, "bohb: min_points_in_model must be >= 0, got ",
              min_points_in_model);
}

ScheduleResult bohb(Study& study, const BudgetMultiObjective& objective,
                    const BohbOptions& options) {
  options.validate();
  const auto plans = hyperband_plan(options.hyperband);
  std::vector<int64_t> steps;  // the plan's rung steps, largest first
  for (double b : plans.front().budgets) steps.insert(steps.begin(), step_of_budget(b));
  const uint64_t seed = options.seed.value_or(study.sampler().seed());
  const ConfigProposer proposer = [&](Study& s) { propose(s, steps, options, seed); };
  ScheduleResult result;
  for (int64_t pass = 0; pass < options.hyperband.n_iterations; ++pass) {
    for (const auto& plan : plans) {
      result.brackets.push_back(
          run_bracket(study, objective, plan, options.hyperband.n_jobs, proposer));
      result.total_budget += total_budget(result.brackets.back());
    }
  }
  return result;
}

ScheduleResult bohb(Study& study, const BudgetObjective& objective, const BohbOptions& options) {
  return bohb(study, BudgetMultiObjective([&](Trial& t, double budget) {
                return std::vector<double>{objective(t, budget)};
              }),
              options);
}

}  // namespace nabla::hpo
