// The percentile and median pruners: a trial whose reports are worse than a percentile of the
// complete trials' reports at the same step is pruned (Optuna's semantics for one objective).
#pragma once

#include <cstdint>

#include "hpo/pruner.h"

namespace nabla::hpo {

struct PercentilePrunerOptions {
  // Trials no better than this percentile of the peers (0: the best, 100: the worst) are pruned.
  double percentile = 50;
  int64_t n_startup_trials = 5;  // no pruning before this many trials are complete
  int64_t n_warmup_steps = 0;    // no pruning at steps below this
  int64_t interval_steps = 1;    // judged once per interval (is_first_in_interval)
  int64_t n_min_trials = 1;      // peers that must have reported at the step
  void validate() const;
};

// Note [percentile pruning]: at the trial's last step s the peers are the complete trials of the
// visible history with a report at s (NaN reports left out); with fewer than n_min_trials of them
// nothing is pruned.
// - One objective (Optuna): the trial's best report over all its steps is compared with the
//   percentile of the peers' reports at s (linear interpolation, counted from the best side: for
//   a maximized objective the (100 - p)-th); worse than it, the trial is pruned. A trial whose
//   reports are all NaN is pruned.
// - Several objectives: the trial's report at s and the peers' are ranked together by front
//   (Note [report order] in pruners/ranking.h; front 0 the best); the trial is pruned when its
//   front index exceeds the p-th percentile of the peers' front indices. A trial on the Pareto
//   front of the pool is never pruned, whatever p. A report holding a NaN is pruned.
// For one objective and distinct values the second rule is the first one applied to ranks.
class PercentilePruner : public Pruner {
 public:
  explicit PercentilePruner(PercentilePrunerOptions options = {});
  std::string name() const override { return "percentile"; }
  bool prune(const PrunerContext& ctx) override;
  const PercentilePrunerOptions& options() const { return options_; }

 private:
  PercentilePrunerOptions options_;
};

struct MedianPrunerOptions {
  int64_t n_startup_trials = 5;
  int64_t n_warmup_steps = 0;
  int64_t interval_steps = 1;
  int64_t n_min_trials = 1;
};

// The percentile pruner at the 50th percentile: worse than the median of the peers, pruned.
class MedianPruner final : public PercentilePruner {
 public:
  explicit MedianPruner(MedianPrunerOptions options = {});
  std::string name() const override { return "median"; }
};

}  // namespace nabla::hpo
