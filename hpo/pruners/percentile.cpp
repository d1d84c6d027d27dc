// The percentile and median pruners (Note [percentile pruning]).
#include "hpo/pruners/percentile.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "hpo/pruners/interval.h"
#include "hpo/pruners/ranking.h"

namespace nabla::hpo {

namespace {

// numpy.percentile's default (linear) rule over a non-empty sample.
double percentile_of(std::vector<double> sample, double p) {
  std::sort(sample.begin(), sample.end());
  const double position = p / 100 * static_cast<double>(sample.size() - 1);
  const auto below = static_cast<size_t>(std::floor(position));
  const size_t above = std::min(below + 1, sample.size() - 1);
  const double fraction = position - static_cast<double>(below);
  return sample[below] + fraction * (sample[above] - sample[below]);
}

bool has_nan(const std::vector<double>& values) {
  return std::any_of(values.begin(), values.end(), [](double v) { return std::isnan(v); });
}

}  // namespace

void PercentilePrunerOptions::validate() const {
  NABLA_CHECK(percentile >= 0 && percentile <= 100, ValueError,
              "PercentilePruner: percentile must be in [0, 100], got ", percentile);
  NABLA_CHECK(n_startup_trials >= 0, ValueError,
              "PercentilePruner: n_startup_trials must be >= 0, got ", n_startup_trials);
  NABLA_CHECK(n_warmup_steps >= 0, ValueError,
              "PercentilePruner: n_warmup_steps must be >= 0, got ", n_warmup_steps);
  NABLA_CHECK(interval_steps >= 1, ValueError,
              "PercentilePruner: interval_steps must be >= 1, got ", interval_steps);
  NABLA_CHECK(n_min_trials >= 1, ValueError, "PercentilePruner: n_min_trials must be >= 1, got ",
              n_min_trials);
}

PercentilePruner::PercentilePruner(PercentilePrunerOptions options) : options_(options) {
  options_.validate();
}

bool PercentilePruner::prune(const PrunerContext& ctx) {
  const FrozenTrial& trial = ctx.trial;
  const auto step = trial.last_step();
  if (!step) return false;
  int64_t n_complete = 0;
  std::vector<std::vector<double>> peers;
  for (const auto& t : ctx.history) {
    if (t->state != TrialState::complete) continue;
    ++n_complete;
    auto it = t->intermediate_values.find(*step);
    if (it != t->intermediate_values.end() && !has_nan(it->second)) peers.push_back(it->second);
  }
  if (n_complete == 0 || n_complete < options_.n_startup_trials) return false;
  if (!is_first_in_interval(trial, *step, options_.n_warmup_steps, options_.interval_steps))
    return false;

  if (ctx.directions.size() == 1) {
    const bool minimize = ctx.directions[0] == Direction::minimize;
    double best = std::nan("");
    for (const auto& [s, values] : trial.intermediate_values) {
      if (std::isnan(values[0])) continue;
      if (std::isnan(best) || (minimize ? values[0] < best : values[0] > best)) best = values[0];
    }
    if (std::isnan(best)) return true;
    if (static_cast<int64_t>(peers.size()) < options_.n_min_trials) return false;
    std::vector<double> sample;
    for (const auto& p : peers) sample.push_back(p[0]);
    const double cut = percentile_of(std::move(sample),
                                     minimize ? options_.percentile : 100 - options_.percentile);
    return minimize ? best > cut : best < cut;
  }

  const std::vector<double>& report = trial.intermediate_values.at(*step);
  if (has_nan(report)) return true;
  if (static_cast<int64_t>(peers.size()) < options_.n_min_trials) return false;
  const size_t n_peers = peers.size();
  peers.push_back(report);
  const auto keys = ranking::rank_keys(peers, ctx.directions);
  std::vector<double> peer_fronts;
  for (size_t i = 0; i < n_peers; ++i) peer_fronts.push_back(static_cast<double>(keys[i].front));
  return static_cast<double>(keys[n_peers].front) >
         percentile_of(std::move(peer_fronts), options_.percentile);
}

MedianPruner::MedianPruner(MedianPrunerOptions options)
    : PercentilePruner({.percentile = 50,
                        .n_startup_trials = options.n_startup_trials,
                        .n_warmup_steps = options.n_warmup_steps,
                        .interval_steps = options.interval_steps,
                        .n_min_trials = options.n_min_trials}) {}

}  // namespace nabla::hpo
