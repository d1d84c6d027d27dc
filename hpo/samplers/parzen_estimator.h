// The mixture TPE fits to one group of observations (Bergstra et al. 2011, Sec. 4; Watanabe 2023,
// Sec. 3.3): one kernel per observation plus a prior kernel, over numerical dimensions (truncated
// Gaussians, in log space for log scales, discretized on int and step grids) and categorical ones
// (point masses with a uniform prior, smoothed when joint).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "hpo/distribution.h"
#include "hpo/rng.h"

namespace nabla::hpo {

struct ParzenOptions {
  // The prior kernel's weight beside an observation's (which TPE's ramp keeps at most 1): a
  // Gaussian at the centre of the range as wide as the range, or a uniform categorical.
  double prior_weight = 1.0;
  bool consider_prior = true;
  // The smallest bandwidth is the range / min(100, 1 + kernels) (hyperopt's "magic clip"); off, it
  // is 1e-12 of the range, and a lone good observation becomes a spike.
  bool consider_magic_clip = true;
  // Univariate rule: the outermost kernels also measure their distance to the bounds.
  bool consider_endpoints = false;
  // Bandwidths by Scott's rule over the joint space (Note [Parzen bandwidths]).
  bool multivariate = false;
  // A ValueError naming the option.
  void validate() const;
};

// Note [Parzen bandwidths]: the univariate rule (Bergstra et al. 2011) sorts the kernels' centres,
// the prior's among them, and gives each the larger of its distances to its two neighbours; the
// outermost ones have one neighbour only unless consider_endpoints adds the bound. With several
// dimensions there is no order to follow, so each dimension gets Scott's rule (Scott 1992, as BOHB
// does, Falkner et al. 2018) with a fifth of the range for the spread: 0.2 * range *
// kernels^(-1 / (dims + 4)). Either way the bandwidth is clipped into [magic clip, range] and the
// prior's is the range itself.
//
// Note [discretized kernels]: an int or stepped float lives on its grid. Its kernels are Gaussians
// truncated to [low - step/2, high + step/2] (in log space for a log int, over [low - 1/2,
// high + 1/2]), and grid point v gets the mass of its cell [v - step/2, v + step/2]: a draw rounds
// to the nearest grid point, and the probability of a point is the mass the draw lands in its cell.
// So the masses of all grid points sum to 1, and l/g compares masses rather than densities.
//
// Note [categorical kernels]: an observation's kernel on a categorical is its own choice and the
// prior's is uniform, so in one dimension the mixture is the smoothed weighted count
// (w_c + prior_weight / C) / (sum of w + prior_weight) over the C choices. With several
// dimensions a point mass would give a kernel's other coordinates no say at any other choice: g
// would vanish wherever the bad trials seldom chose, and l/g would send every draw of the prior
// there whatever its other coordinates. So, joint, each observation's kernel also spreads the
// prior's share of the mixture evenly over the choices (Aitchison and Aitken 1976's kernel).
class ParzenEstimator {
 public:
  // columns[d][i] is observation i's internal value on dimension d (a value dims[d] could
  // produce); weights[i] >= 0 its weight, on any scale. Without observations (or all of weight 0)
  // the prior is the whole mixture, even when not considered.
  ParzenEstimator(std::vector<Distribution> dims, const std::vector<std::vector<double>>& columns,
                  const std::vector<double>& weights, const ParzenOptions& options);

  // n points, each an internal value per dimension that its distribution can produce.
  std::vector<std::vector<double>> sample(Rng& rng, int64_t n) const;
  // The log of the mixture at `point`: on continuous dimensions the density per unit of the
  // parameter itself (log scales included), on discrete ones the probability mass.
  double log_pdf(std::span<const double> point) const;

  int64_t kernels() const { return static_cast<int64_t>(weights_.size()); }
  // Normalized to sum to 1; the prior's comes last when it is a kernel.
  const std::vector<double>& weights() const { return weights_; }
  // Kernel k's centre and bandwidth on a numerical dimension, in the model's space (the log of
  // the value on log scales).
  double mu(int64_t dim, int64_t k) const;
  double sigma(int64_t dim, int64_t k) const;

 private:
  enum class Kind : uint8_t { continuous, discrete, categorical };
  struct Dim {
    Distribution distribution;
    Kind kind = Kind::continuous;
    bool log = false;
    double lo = 0, hi = 1;  // the model's bounds (the cells' outer edges when discrete)
    double half_step = 0;   // discrete: half a grid step, in the parameter's own units
    int64_t n_choices = 0;  // categorical
    std::vector<double> mu, sigma, inv_sigma;
    std::vector<int64_t> choice;  // categorical: kernel k's choice, -1 for the uniform prior
    double smoothing = 0;         // Note [categorical kernels]
  };

  // What every kernel needs of a point's value on one dimension: the model's value (continuous,
  // with the log of its Jacobian on log scales), its cell's edges (discrete), or its choice.
  struct Query {
    double lo = 0, hi = 0, jacobian = 0;
    int64_t choice = -1;
  };
  static Query query(const Dim& dim, double x);
  // Kernel k's factor on one dimension without its constants (in scale_ and log_offset_), as a
  // number and as its log.
  double kernel(const Dim& dim, size_t k, const Query& q) const;
  double log_kernel(const Dim& dim, size_t k, const Query& q) const;

  std::vector<Dim> dims_;
  std::vector<double> weights_, cumulative_;
  // Per kernel: log weight minus the log normalizers of its truncated Gaussians (and their
  // log sigma + log sqrt(2 pi) on continuous dimensions).
  std::vector<double> log_offset_;
  std::vector<double> scale_;  // exp(log_offset_): Note [Parzen sums] in parzen_estimator.cpp
};

}  // namespace nabla::hpo
