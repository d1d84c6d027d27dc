// The sampler interface: what a sampler sees when it proposes a trial's parameters, and the two
// ways it may propose them (Optuna's split): jointly over the intersection search space
// (relative), or one parameter at a time as the objective asks (independent).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hpo/frozen_trial.h"
#include "hpo/rng.h"
#include "hpo/search_space.h"

namespace nabla::hpo {

class Storage;

// Note [visible history]: `history` holds the finished trials this trial may learn from, in number
// order. With n_jobs threads, trial k sees exactly the trials numbered below k - n_jobs + 1 (and
// waits for them), so a seeded study is the same whatever the threads' timing.
struct SamplerContext {
  std::span<const TrialPtr> history;
  const FrozenTrial& trial;  // the trial being sampled, with its parameters so far
  std::span<const Direction> directions;
  int64_t study_id;
  Storage& storage;     // for samplers that keep state in study or trial attributes
  int64_t attempt = 0;  // > 0 when the study asks again to avoid a configuration already tried
  // intersection_search_space(history), computed once per trial by the study (Note [incremental
  // search space]); null in contexts made by hand. Read it through intersection(ctx).
  const SearchSpace* intersection = nullptr;
};

// The intersection search space of ctx.history, without recomputing it where the study did.
SearchSpace intersection(const SamplerContext& ctx);

class Sampler {
 public:
  // Without a seed, one is drawn from std::random_device.
  explicit Sampler(std::optional<uint64_t> seed = std::nullopt);
  virtual ~Sampler() = default;

  virtual std::string name() const = 0;

  // The parameters to sample jointly; empty for univariate samplers.
  virtual SearchSpace infer_relative_search_space(const SamplerContext& ctx);
  // Internal values for (some of) `space`'s parameters.
  virtual std::map<std::string, double> sample_relative(const SamplerContext& ctx,
                                                        const SearchSpace& space);
  // The internal value of one parameter outside the relative space.
  virtual double sample_independent(const SamplerContext& ctx, const std::string& param,
                                    const Distribution& d) = 0;
  // Called once a trial finished, with its final state (population bookkeeping).
  virtual void after_trial(const SamplerContext& ctx, TrialState state);
  // True when the sampler has nothing new to propose given every trial of the study, running ones
  // included (a grid fully covered): the study stops. Asked under the storage's lock as each new
  // trial is created (Storage::create_trial_unless), so it must not call the storage.
  virtual bool exhausted(std::span<const TrialPtr> trials);

  uint64_t seed() const { return seed_; }

 protected:
  // Note [sampler streams] in rng.h: keyed by trial number, attempt and `stream`.
  Rng rng(const SamplerContext& ctx, std::string_view stream) const {
    return Rng::keyed(seed_, ctx.trial.number, stream, ctx.attempt);
  }

 private:
  uint64_t seed_;
};

// A uniform draw from `d` as an internal value (log-uniform for log distributions; every grid
// point and choice equally likely). Shared by samplers that fall back to random.
double sample_uniform(const Distribution& d, Rng& rng);

}  // namespace nabla::hpo
