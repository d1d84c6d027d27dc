// Bayesian optimization with a Gaussian process: after a random start, each trial fits the model
// (gaussian_process.h) to the finished trials over their intersection search space and takes the
// point that maximizes an acquisition (expected improvement or an upper confidence bound).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hpo/sampler.h"

namespace nabla::hpo {

enum class Acquisition : uint8_t { ei, ucb };

struct GpOptions {
  std::optional<uint64_t> seed{};
  // Trials are sampled independently until this many observations exist (prior ones included).
  int64_t n_startup_trials = 10;
  Acquisition acquisition = Acquisition::ei;
  // UCB's weight on the posterior sd (in standardized units): mean + sqrt(beta) sd.
  double ucb_beta = 2.0;
  // Quasi-random (Sobol) points the acquisition is scored at, before the local searches.
  int64_t n_candidates = 1024;
  // L-BFGS runs on the acquisition, from the best candidates and from the best observation.
  int64_t n_local_searches = 4;
  // L-BFGS runs on the hyperparameters' posterior (GpFitOptions::restarts).
  int64_t n_fit_restarts = 3;
  // The model is fitted on at most this many observations (Note [gp observations] in gp.cpp).
  int64_t max_observations = 200;
  // Warm start: finished trials of earlier studies of the same objective and direction, used as
  // extra observations wherever they have the parameters of the search space (complete trials
  // only; others are ignored).
  std::vector<TrialPtr> prior_trials{};
  // Samples the parameters outside the model's space and the startup trials; null: random search
  // with this sampler's seed.
  std::shared_ptr<Sampler> independent_sampler{};

  // A ValueError naming the first bad option and its value.
  void validate() const;
};

// Which observations a fit on at most `cap` of them keeps (Note [gp observations] in gp.cpp), as
// ascending indices: the best cap / 2 by `utility` (higher is better; ties to the older), then
// the most recent (highest index) of the others.
std::vector<size_t> gp_observation_subset(const std::vector<double>& utility, int64_t cap);

// Numeric parameters are modelled on [0, 1] (log ones in log space; int and stepped ones as
// continuous, snapped to the grid at the end); categorical ones through a Hamming distance in the
// kernel. One objective only: a multi-objective study is a ValueError at its first trial.
class GpSampler final : public Sampler {
 public:
  explicit GpSampler(GpOptions options = {});

  std::string name() const override { return "gp"; }
  SearchSpace infer_relative_search_space(const SamplerContext& ctx) override;
  std::map<std::string, double> sample_relative(const SamplerContext& ctx,
                                                const SearchSpace& space) override;
  double sample_independent(const SamplerContext& ctx, const std::string& param,
                            const Distribution& d) override;

  const GpOptions& options() const { return options_; }

 private:
  GpOptions options_;
  std::shared_ptr<Sampler> independent_;
};

}  // namespace nabla::hpo
