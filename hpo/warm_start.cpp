// Warm starts: checking the trials a sampler learns from, and enqueuing a source's best trials.
#include "hpo/warm_start.h"

#include <cmath>

#include "core/error.h"
#include "hpo/ranking.h"

namespace nabla::hpo {

void WarmStart::validate(const std::string& owner) const {
  NABLA_CHECK(std::isfinite(weight) && weight > 0, ValueError, owner,
              ": weight must be finite and > 0, got ", weight);
  for (size_t i = 0; i < trials.size(); ++i) {
    NABLA_CHECK(trials[i], ValueError, owner, ": trial ", i, " is null");
    NABLA_CHECK(is_finished(trials[i]->state), ValueError, owner, ": trial ", i, " (number ",
                trials[i]->number, ") is ", name(trials[i]->state), ", not finished");
  }
}

int64_t enqueue_best(Study& target, std::span<const TrialPtr> source, int64_t n,
                     std::span<const Direction> source_directions) {
  NABLA_CHECK(n >= 0, ValueError, "enqueue_best: n must be >= 0, got ", n);
  if (source_directions.empty()) source_directions = target.directions();
  std::vector<TrialPtr> complete;
  std::vector<std::vector<double>> points;
  for (const auto& t : source) {
    NABLA_CHECK(t, ValueError, "enqueue_best: a source trial is null");
    if (t->state != TrialState::complete) continue;
    NABLA_CHECK(t->values.size() == source_directions.size(), ValueError,
                "enqueue_best: source trial ", t->number, " has ", t->values.size(),
                " values, but the source is ranked in ", source_directions.size(), " directions");
    complete.push_back(t);
    points.push_back(t->values);
  }
  const auto order = best_first(points, source_directions, static_cast<size_t>(n));
  for (size_t i : order) target.enqueue_trial(complete[i]->params);
  return static_cast<int64_t>(order.size());
}

}  // namespace nabla::hpo
