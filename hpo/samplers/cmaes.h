// CMA-ES (Hansen, "The CMA Evolution Strategy: A Tutorial", 2016) with IPOP restarts (Auger &
// Hansen 2005) over a study's numeric parameters, mapped onto the unit cube.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hpo/sampler.h"

namespace nabla::hpo {

struct CmaEsOptions {
  std::optional<uint64_t> seed{};
  // Where the first generation is centred, in each parameter's own units; the centre of the
  // (unit-cube) range for parameters not listed.
  std::map<std::string, double> x0{};
  double sigma0 = 1.0 / 6;           // the initial step size, in unit-cube units
  std::optional<int64_t> popsize{};  // lambda; none: 4 + floor(3 ln n)
  // IPOP: when a run stalls (tolerances below), start again from a uniformly drawn mean with the
  // population multiplied by inc_popsize.
  bool restarts = true;
  double inc_popsize = 2;
  double tol_x = 1e-11;         // every sigma * sqrt(C_ii) and sigma * |p_c,i| below it
  double tol_fun = 1e-12;       // Hansen's TolFun: the range of recent best values below it
  double tol_condition = 1e14;  // the covariance's condition number above it
  // Integer and stepped parameters: the probability each such coordinate leaves the grid cell
  // of the mean is kept at least this (Note [margin] in cmaes.cpp); none: 1 / (n * lambda).
  std::optional<double> margin{};
  // Draws outside the unit cube are redrawn up to this many times, then clipped into it.
  int64_t max_resampling = 100;
  // Samples the parameters outside the space CMA-ES models (categoricals, conditional ones, the
  // first trial); null: random search with this sampler's seed.
  std::shared_ptr<Sampler> independent_sampler{};

  // A ValueError naming the first bad option and its value.
  void validate() const;
};

class CmaEsSampler final : public Sampler {
 public:
  explicit CmaEsSampler(CmaEsOptions options = {});
  ~CmaEsSampler() override;

  std::string name() const override { return "cmaes"; }
  // The numeric parameters of the intersection space (one objective only).
  SearchSpace infer_relative_search_space(const SamplerContext& ctx) override;
  std::map<std::string, double> sample_relative(const SamplerContext& ctx,
                                                const SearchSpace& space) override;
  double sample_independent(const SamplerContext& ctx, const std::string& param,
                            const Distribution& d) override;

  const CmaEsOptions& options() const { return options_; }

 private:
  struct State;
  struct Chain;
  // A generation's members as (value, unit-cube point), values as minimized.
  using Generation = std::vector<std::pair<double, std::vector<double>>>;
  // The distribution the next generation is drawn from, replayed from ctx.history (Note
  // [generations from history] in cmaes.cpp).
  State current_state(const SamplerContext& ctx, const SearchSpace& space);
  State initial_state(const SearchSpace& space, int64_t restart) const;
  // `ranked`: one generation, best first.
  State next_state(const State& s, const SearchSpace& space, Generation ranked) const;

  CmaEsOptions options_;
  std::mutex mutex_;
  std::unique_ptr<Chain> chain_;  // guarded by mutex_
};

}  // namespace nabla::hpo
