// The ASHA pruner (Note [asha rungs]).
#include "hpo/pruners/successive_halving.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "hpo/pruners/ranking.h"

namespace nabla::hpo {

namespace {

bool has_nan(const std::vector<double>& values) {
  return std::any_of(values.begin(), values.end(), [](double v) { return std::isnan(v); });
}

// The trial's first report at or past `step`, if any.
const std::vector<double>* first_report_from(const FrozenTrial& t, int64_t step) {
  auto it = t.intermediate_values.lower_bound(step);
  return it == t.intermediate_values.end() ? nullptr : &it->second;
}

}  // namespace

void SuccessiveHalvingPrunerOptions::validate() const {
  NABLA_CHECK(min_resource >= 1, ValueError,
              "SuccessiveHalvingPruner: min_resource must be >= 1, got ", min_resource);
  NABLA_CHECK(reduction_factor >= 2, ValueError,
              "SuccessiveHalvingPruner: reduction_factor must be >= 2, got ", reduction_factor);
  NABLA_CHECK(min_early_stopping_rate >= 0, ValueError,
              "SuccessiveHalvingPruner: min_early_stopping_rate must be >= 0, got ",
              min_early_stopping_rate);
  NABLA_CHECK(!max_resource || *max_resource >= min_resource, ValueError,
              "SuccessiveHalvingPruner: max_resource (", max_resource.value_or(0),
              ") must be >= min_resource (", min_resource, ")");
}

SuccessiveHalvingPruner::SuccessiveHalvingPruner(SuccessiveHalvingPrunerOptions options)
    : options_(options) {
  options_.validate();
}

bool SuccessiveHalvingPruner::prune(const PrunerContext& ctx) {
  const FrozenTrial& trial = ctx.trial;
  const auto step = trial.last_step();
  if (!step) return false;
  int64_t previous = -1;  // the report before the last one
  for (const auto& [s, values] : trial.intermediate_values)
    if (s < *step) previous = s;
  const std::vector<double>& report = trial.intermediate_values.at(*step);
  const int64_t eta = options_.reduction_factor;

  // Rung steps grow by eta while they stay <= step (rung <= step / eta keeps rung * eta <= step).
  int64_t rung = options_.min_resource;
  for (int64_t i = 0; i < options_.min_early_stopping_rate; ++i) {
    if (rung > *step / eta) return false;
    rung *= eta;
  }
  while (rung <= *step) {
    if (options_.max_resource && rung >= *options_.max_resource) break;
    if (rung > previous) {
      if (has_nan(report)) return true;
      std::vector<std::vector<double>> pool;
      for (const auto& t : ctx.history)
        if (const auto* value = first_report_from(*t, rung); value && !has_nan(*value))
          pool.push_back(*value);
      pool.push_back(report);
      const auto keys = ranking::rank_keys(pool, ctx.directions);
      const ranking::RankKey& mine = keys.back();
      const auto ahead = std::count_if(keys.begin(), keys.end() - 1, [&](const auto& k) {
        return ranking::ranks_before(k, mine);
      });
      const int64_t kept = std::max<int64_t>(1, static_cast<int64_t>(pool.size()) / eta);
      if (ahead >= kept) return true;
    }
    if (rung > *step / eta) break;
    rung *= eta;
  }
  return false;
}

}  // namespace nabla::hpo
