// The Tree-structured Parzen Estimator (Bergstra et al. 2011; Watanabe 2023): the observations
// are split into a good and a bad group, each modelled by a Parzen estimator, l(x) and g(x), and
// the next point is the one of n_ei_candidates draws from l with the largest l(x) / g(x), which
// maximizes expected improvement (Bergstra et al. 2011, Eq. 4). With several objectives it is
// MOTPE (Ozaki et al. 2020, 2022): the split follows the Pareto fronts and the good group is
// weighted by hypervolume contribution.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "hpo/sampler.h"
#include "hpo/samplers/parzen_estimator.h"
#include "hpo/warm_start.h"

namespace nabla::hpo {

// min(ceil(0.1 n), 25): the size of the good group among n observations (Optuna's default).
int64_t default_gamma(int64_t n);
// ceil(fraction * n), for a fraction in (0, 1] (Bergstra et al. 2011's fixed quantile).
std::function<int64_t(int64_t)> fixed_fraction_gamma(double fraction);
// The weights of n observations of one group, oldest first: 1 for the newest 25, and below them
// a ramp rising from 1/n, so that old observations fade (Optuna's default).
std::vector<double> default_weights(int64_t n);

struct TpeOptions {
  // Random search until this many trials (complete or pruned, prior_trials included) are seen.
  int64_t n_startup_trials = 10;
  // Draws from l(x) the best of which by l/g is proposed.
  int64_t n_ei_candidates = 24;
  // The good group's size among n complete and pruned observations, in [0, n].
  std::function<int64_t(int64_t)> gamma = default_gamma;
  // n weights >= 0 for a group of n observations in trial-number order, oldest first. For several
  // objectives the good group is weighted by hypervolume contribution instead.
  std::function<std::vector<double>(int64_t)> weights = default_weights;
  double prior_weight = 1.0;  // ParzenOptions
  bool consider_prior = true;
  bool consider_magic_clip = true;
  bool consider_endpoints = false;
  // Models the intersection search space jointly (Scott's-rule bandwidths, one product kernel per
  // observation); the parameters outside it stay univariate.
  bool multivariate = false;
  // Trials of earlier studies as extra observations (Note [TPE observations] in tpe.cpp).
  WarmStart prior_trials{};
  // A ValueError naming the option.
  void validate() const;
};

// The observations of one group with their weights, in trial-number order (the study's own trials,
// then prior_trials).
struct TpeGroup {
  std::vector<TrialPtr> trials{};
  std::vector<double> weights{};
};
struct TpeSplit {
  TpeGroup good{}, bad{};
};

// The good/bad split of `history` (and of options.prior_trials), as Note [TPE observations] in
// tpe.cpp describes; a ValueError if gamma or weights return what they should not.
TpeSplit tpe_split(std::span<const TrialPtr> history, std::span<const Direction> directions,
                   const TpeOptions& options);

class TpeSampler final : public Sampler {
 public:
  explicit TpeSampler(TpeOptions options = {}, std::optional<uint64_t> seed = std::nullopt);
  ~TpeSampler() override;

  std::string name() const override { return "tpe"; }
  SearchSpace infer_relative_search_space(const SamplerContext& ctx) override;
  std::map<std::string, double> sample_relative(const SamplerContext& ctx,
                                                const SearchSpace& space) override;
  double sample_independent(const SamplerContext& ctx, const std::string& param,
                            const Distribution& d) override;

  const TpeOptions& options() const { return options_; }

 private:
  struct Split;
  struct Column;
  // Null during the start-up trials. Each trial's split is computed once and shared by its
  // parameters' suggestions.
  std::shared_ptr<const Split> split(const SamplerContext& ctx);
  // Note [TPE columns] in tpe.cpp: the internal values of `param` under `d` for each of `trials`,
  // NaN where a trial has none.
  std::vector<double> column(std::span<const TrialPtr> trials, const std::string& param,
                             const Distribution& d, bool prior);
  // The candidate of largest l/g, one internal value per dimension of `dims`.
  std::vector<double> propose(const SamplerContext& ctx, const Split& split,
                              const std::vector<std::string>& params,
                              const std::vector<Distribution>& dims, bool multivariate, Rng& rng);

  TpeOptions options_;
  // A trial's history never changes (Note [visible history] in sampler.h), so its id, number and
  // history size with the last trial of its history (held, so its address is not reused) name it.
  struct CacheEntry {
    int64_t trial_id;
    int64_t trial_number;
    size_t history_size;
    TrialPtr last;
    std::shared_ptr<const Split> split;
  };
  std::mutex cache_mutex_;        // guards everything below
  std::deque<CacheEntry> cache_;  // the latest trials' splits, one per thread in flight
  std::vector<std::unique_ptr<Column>> columns_;
  int64_t column_uses_ = 0;
};

}  // namespace nabla::hpo
