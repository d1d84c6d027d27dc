// The threshold pruner: a trial whose report leaves a fixed range (or is NaN) is pruned.
#pragma once

#include <cstdint>
#include <vector>

#include "hpo/pruner.h"

namespace nabla::hpo {

struct ThresholdPrunerOptions {
  // One bound per objective, or none at all (empty); -inf / +inf leave one objective open. At
  // least one of the two must be given.
  std::vector<double> lower{};
  std::vector<double> upper{};
  int64_t n_warmup_steps = 0;  // no pruning at steps below this
  int64_t interval_steps = 1;  // judged once per interval (is_first_in_interval)
  void validate() const;
};

// At a judged step, each objective of the last report is held against its own bounds: below its
// lower or above its upper bound, or NaN, and the trial is pruned.
class ThresholdPruner final : public Pruner {
 public:
  explicit ThresholdPruner(ThresholdPrunerOptions options);
  std::string name() const override { return "threshold"; }
  bool prune(const PrunerContext& ctx) override;

 private:
  ThresholdPrunerOptions options_;
};

}  // namespace nabla::hpo
