// Warm starts (meta-learning): a new study seeded with the trials of earlier ones, either by
// running their best configurations first (enqueue_best) or by letting a model-based sampler
// learn from them as extra observations (WarmStart, TpeOptions::prior_trials).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "hpo/frozen_trial.h"
#include "hpo/study.h"

namespace nabla::hpo {

// Trials of earlier studies for a sampler to learn from beside the study's own. A sampler ranks
// them among themselves (their studies may have run longer or on other data), adds them to its
// own observations with `weight`, and counts them towards its random start-up trials.
struct WarmStart {
  // Finished trials (complete or pruned count; failed ones are skipped), their values in the new
  // study's directions and their parameters under its distributions: a value the new study's
  // distribution could not produce leaves that parameter out of that trial.
  std::vector<TrialPtr> trials{};
  // What one of them weighs beside an observation of the study itself (at most 1 under TPE's
  // default weights).
  double weight = 1.0;
  // A ValueError naming `owner` (the option holding it) on a null or unfinished trial, or a weight
  // that is not finite and > 0.
  void validate(const std::string& owner) const;
};

// Enqueues the parameters of the source's best n complete trials into `target`, best first (for
// several objectives the Pareto front first: Note [ranking several objectives] in ranking.h), and
// returns how many it enqueued. `source_directions` are the directions the source's values are
// ranked in; empty, the target's. The target's objective decides which parameters it asks for;
// one whose enqueued value its distribution cannot produce fails that trial with a message naming
// the parameter and the value.
int64_t enqueue_best(Study& target, std::span<const TrialPtr> source, int64_t n,
                     std::span<const Direction> source_directions = {});

}  // namespace nabla::hpo
