// BOHB (Falkner et al. 2018): Hyperband's brackets with configurations proposed by a density
// model of the good and the bad evaluations at the largest budget with enough of them.
#pragma once

#include <cstdint>
#include <optional>

#include "hpo/schedulers/hyperband.h"

namespace nabla::hpo {

struct BohbOptions {
  HyperbandOptions hyperband{};      // budgets, eta, passes, threads
  double top_fraction = 0.15;        // q: the good share of the observations
  double random_fraction = 1.0 / 3;  // rho: proposals left to the study's sampler
  double bandwidth_factor = 3;       // b_w: widens l(x) for the candidates
  double min_bandwidth = 1e-3;       // floor of every bandwidth (Note [bohb kde])
  int64_t n_samples = 64;            // N_s: candidates per proposal
  int64_t min_points_in_model = 0;   // N_min; 0: d + 1 for a d-dimensional space
  std::optional<uint64_t> seed{};    // none: the seed of the study's sampler
  void validate() const;
};

// Note [bohb proposals]: before each first-rung configuration is asked (run_bracket), a draw keyed
// by the seed and the next trial number decides whether the study's own sampler picks it (with
// probability rho) or the model does. The model's observations at a budget are the study's trials,
// in any state (this bracket's running ones too), with a finite report at the budget's step (Note
// [budgets as steps]); its space is the parameters those trials all have with the same
// distribution (single-valued ones left out), encoded in [0, 1] (floats by their range, on a log
// scale if so declared; integers and stepped floats by the cells of their grid; categoricals by
// their index). Among the plan's budgets, the largest with at least N_min + 2 observations is used
// (Algorithm 2); its observations are ranked (Note [report order] in pruners/ranking.h, ties by
// trial number) and split by bohb_split; the candidate of propose_by_ratio is decoded (snapped to
// the grid) and enqueued, so that the next ask runs it, the parameters outside the space sampled.
// No budget with enough observations: the study's sampler picks.
ScheduleResult bohb(Study& study, const BudgetObjective& objective,
                    const BohbOptions& options = {});
ScheduleResult bohb(Study& study, const BudgetMultiObjective& objective,
                    const BohbOptions& options = {});

}  // namespace nabla::hpo
