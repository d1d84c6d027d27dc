// Asynchronous Hyperband as a pruner: trials are spread over brackets of ASHA that start pruning
// at different resources, and compared only within their bracket.
#pragma once

#include <cstdint>
#include <vector>

#include "hpo/pruner.h"
#include "hpo/pruners/successive_halving.h"

namespace nabla::hpo {

struct HyperbandPrunerOptions {
  int64_t min_resource = 1;   // r_min: the first rung's step in the most aggressive bracket
  int64_t max_resource = 81;  // R: the step a trial runs to when never pruned
  int64_t reduction_factor = 3;
  void validate() const;
};

// Note [hyperband brackets]: with s_max the largest s such that r_min * eta^s <= R, bracket
// i = 0..s_max is ASHA (Note [asha rungs]) with min_early_stopping_rate i (rungs at
// r_min * eta^(k + i), none judged at or past R), that is Hyperband's bracket s = s_max - i, and
// it gets the share of trials Hyperband gives it: n_i = ceil((s_max + 1) eta^s / (s + 1))
// (Li et al. 2018, Algorithm 1; for R = 81, r_min = 1, eta = 3: 81, 34, 15, 8, 5 of every 143).
// Trial k goes to the bracket whose slice of [0, T), T = sum n_i, holds (k mod T) * g mod T,
// where g is the integer nearest T (sqrt(5) - 1) / 2 that is coprime to T: every T consecutive
// trial numbers fill the brackets exactly to their shares, and the golden-ratio stride
// interleaves them, so a short study still sees every bracket. A trial is compared only with the
// visible trials of its own bracket.
class HyperbandPruner final : public Pruner {
 public:
  explicit HyperbandPruner(HyperbandPrunerOptions options = {});
  std::string name() const override { return "hyperband"; }
  bool prune(const PrunerContext& ctx) override;

  int64_t n_brackets() const { return static_cast<int64_t>(brackets_.size()); }
  // n_i of Note [hyperband brackets].
  int64_t bracket_trials(int64_t bracket) const;
  int64_t bracket_of(int64_t trial_number) const;

 private:
  HyperbandPrunerOptions options_;
  std::vector<SuccessiveHalvingPruner> brackets_;
  std::vector<int64_t> shares_;  // n_i
  int64_t total_ = 0;            // T
  int64_t stride_ = 1;           // g
};

}  // namespace nabla::hpo
