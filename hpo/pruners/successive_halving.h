// Asynchronous successive halving (ASHA, Li et al. 2020) as a pruner: at each rung a trial goes on
// only if it is in the top 1/eta of the values recorded there.
#pragma once

#include <cstdint>
#include <optional>

#include "hpo/pruner.h"

namespace nabla::hpo {

struct SuccessiveHalvingPrunerOptions {
  int64_t min_resource = 1;             // r: the step of the first rung (for s = 0)
  int64_t reduction_factor = 4;         // eta
  int64_t min_early_stopping_rate = 0;  // s: rung k sits at step r * eta^(k + s)
  // Steps at or past this are the top rung: a trial reaching it is not judged again (ASHA's
  // maximum resource R). None: every rung is judged, as Optuna's pruner does.
  std::optional<int64_t> max_resource{};
  void validate() const;
};

// Note [asha rungs]: rung k sits at step r * eta^(k + s). A trial's value at a rung is its first
// report at or past the rung's step, so a trial that reports at uneven steps still gets one. When
// the trial's last report is the first to reach one or more new rungs, it is judged at each of
// them, lowest first: with n the number of values at that rung among the visible trials (Note
// [visible history] in sampler.h, any state) plus its own, it goes on iff fewer than
// max(1, floor(n / eta)) of those values rank strictly ahead of its own (Note [report order] in
// pruners/ranking.h; for one objective: iff its value is at least as good as the floor(n / eta)-th
// best). The max(1, .) lets the first trials through, as Optuna does, since a pruned trial cannot
// be resumed once later ones fall behind it. NaN at a rung is pruned, and no NaN is counted.
// Decisions follow from the reports alone, so the pruner must be asked after each report: a rung
// passed by a report nobody asked about is not judged later.
class SuccessiveHalvingPruner final : public Pruner {
 public:
  explicit SuccessiveHalvingPruner(SuccessiveHalvingPrunerOptions options = {});
  std::string name() const override { return "successive_halving"; }
  bool prune(const PrunerContext& ctx) override;
  const SuccessiveHalvingPrunerOptions& options() const { return options_; }

 private:
  SuccessiveHalvingPrunerOptions options_;
};

}  // namespace nabla::hpo
