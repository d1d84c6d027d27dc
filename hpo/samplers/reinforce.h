// An RL controller (Zoph & Le, 2017, simplified as in Pham et al.'s ENAS ablations): one softmax
// policy per discrete parameter, trained by REINFORCE with a moving-average baseline on the
// trials' results. It searches architecture spaces (hpo/nas) as any other sampler does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hpo/sampler.h"

namespace nabla::hpo {

struct ReinforceOptions {
  // The step on the policy's logits per trial, in units of the advantage. Larger steps commit to
  // a choice before its alternatives are known: on the macro space's test objective 0.1 and 0.2
  // found the best architecture in most seeds, 0.5 in few, 1 and 2 did worse than random search.
  double learning_rate = 0.1;
  double baseline_decay = 0.9;  // the baseline and the reward scale are moving averages
  // Integer and stepped float parameters with at most this many values get a policy; wider ones,
  // and continuous floats, are drawn uniformly.
  int64_t max_choices = 64;
  std::optional<uint64_t> seed{};

  void validate() const;
};

// Note [reinforce replay]: the controller's state is not stored. Each draw replays the trial's
// history: the baseline b starts at the first complete trial's reward R (the value, negated when
// minimizing), and for every complete trial in number order the advantage A = (R - b) / s, with s
// a moving average of |R - b| (so the step does not depend on the objective's scale), moves the
// logits of each parameter the trial has by learning_rate * A * (onehot(choice) - softmax); then
// b and s take the trial in with baseline_decay. A seeded study is therefore the same with
// threads, and a study resumed from its storage continues where it was.
class ReinforceSampler final : public Sampler {
 public:
  explicit ReinforceSampler(ReinforceOptions options = {});

  std::string name() const override { return "reinforce"; }
  // Single-objective only: a ValueError for a study of several objectives.
  double sample_independent(const SamplerContext& ctx, const std::string& param,
                            const Distribution& d) override;
  // The policy's probabilities for `param` after learning from `history` (Note [reinforce
  // replay]); empty for a parameter without a policy.
  std::vector<double> probabilities(std::span<const TrialPtr> history, Direction direction,
                                    const std::string& param, const Distribution& d) const;

 private:
  ReinforceOptions options_;
};

}  // namespace nabla::hpo
