// The threshold pruner.
#include "hpo/pruners/threshold.h"

#include <cmath>

#include "core/error.h"
#include "hpo/pruners/interval.h"

namespace nabla::hpo {

void ThresholdPrunerOptions::validate() const {
  NABLA_CHECK(!lower.empty() || !upper.empty(), ValueError,
              "ThresholdPruner: needs a lower or an upper bound");
  for (double v : lower)
    NABLA_CHECK(!std::isnan(v), ValueError, "ThresholdPruner: a lower bound is NaN");
  for (double v : upper)
    NABLA_CHECK(!std::isnan(v), ValueError, "ThresholdPruner: an upper bound is NaN");
  NABLA_CHECK(lower.empty() || upper.empty() || lower.size() == upper.size(), ValueError,
              "ThresholdPruner: ", lower.size(), " lower bounds but ", upper.size(),
              " upper bounds (one per objective)");
  for (size_t i = 0; i < lower.size() && i < upper.size(); ++i)
    NABLA_CHECK(lower[i] <= upper[i], ValueError, "ThresholdPruner: objective ", i,
                " has lower bound ", lower[i], " above its upper bound ", upper[i]);
  NABLA_CHECK(n_warmup_steps >= 0, ValueError, "ThresholdPruner: n_warmup_steps must be >= 0, got ",
              n_warmup_steps);
  NABLA_CHECK(interval_steps >= 1, ValueError, "ThresholdPruner: interval_steps must be >= 1, got ",
              interval_steps);
}

ThresholdPruner::ThresholdPruner(ThresholdPrunerOptions options) : options_(std::move(options)) {
  options_.validate();
}

bool ThresholdPruner::prune(const PrunerContext& ctx) {
  const size_t n = ctx.directions.size();
  for (const auto* bounds : {&options_.lower, &options_.upper})
    NABLA_CHECK(bounds->empty() || bounds->size() == n, ValueError,
                "ThresholdPruner::prune: ", bounds->size(), " bounds for a study of ", n,
                " objectives");
  const auto step = ctx.trial.last_step();
  if (!step) return false;
  if (!is_first_in_interval(ctx.trial, *step, options_.n_warmup_steps, options_.interval_steps))
    return false;
  const std::vector<double>& report = ctx.trial.intermediate_values.at(*step);
  for (size_t i = 0; i < n; ++i) {
    if (std::isnan(report[i])) return true;
    if (!options_.lower.empty() && report[i] < options_.lower[i]) return true;
    if (!options_.upper.empty() && report[i] > options_.upper[i]) return true;
  }
  return false;
}

}  // namespace nabla::hpo
