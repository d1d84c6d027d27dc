// BOHB's model (Falkner et al. 2018, Sec. 3.2 and Algorithm 2): product-kernel density estimates
// of the good and the bad configurations, and the proposal that maximizes their ratio.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "hpo/rng.h"

namespace nabla::hpo {

// One coordinate of the model's space: continuous in [0, 1] when n_choices is 0, otherwise a
// category 0, ..., n_choices - 1.
struct KdeDimension {
  int64_t n_choices = 0;
};

// Note [bohb kde]: the density is the mean over the n points of a product of one kernel per
// coordinate (d coordinates).
// - Continuous: a Gaussian truncated to [0, 1] and renormalized there, so every kernel, and the
//   density, integrates to 1 over the box; bandwidth by the normal reference rule
//   h = 1.06 sigma n^(-1 / (d + 4)) (Scott's rule, as BOHB uses through statsmodels), sigma the
//   coordinate's population standard deviation.
// - Categorical with c choices: Aitchison and Aitken's kernel, 1 - lambda on the point's own choice
//   and lambda / (c - 1) on each other one; lambda by the same rule with sigma the one-hot
//   encoding's total standard deviation sqrt(1 - sum_k p_k^2) (free of the order of the choices,
//   unlike the codes' spread), at most (c - 1) / c, where the kernel is uniform.
// Every bandwidth is at least min_bandwidth, so that identical points still make a density.
class ProductKde {
 public:
  ProductKde(std::vector<KdeDimension> dims, std::vector<std::vector<double>> points,
             double min_bandwidth = 1e-3);

  double log_pdf(std::span<const double> x) const;
  // A draw from the density with every bandwidth multiplied by `widen` (BOHB's l'(x), which
  // explores around the good points; a categorical lambda stops at (c - 1) / c).
  std::vector<double> sample(Rng& rng, double widen = 1) const;

  // h per continuous coordinate, lambda per categorical one.
  const std::vector<double>& bandwidths() const { return bandwidths_; }

 private:
  std::vector<KdeDimension> dims_;
  std::vector<std::vector<double>> points_;
  std::vector<double> bandwidths_;
  // log of the mass the untruncated kernel of point i puts on [0, 1], per coordinate
  std::vector<std::vector<double>> log_mass_;
};

// Eqs. (2) and (3): of n observations ranked best first, the best n_good = max(N_min, floor(q n))
// make l(x) and the worst n_bad = max(N_min, n - n_good) make g(x) (both at most n; they overlap
// when n < 2 N_min).
struct KdeSplit {
  int64_t n_good = 0;
  int64_t n_bad = 0;
};
KdeSplit bohb_split(int64_t n_observations, double top_fraction, int64_t min_points);

// Algorithm 2's last two lines: n_samples draws from `good` widened by bandwidth_factor, and the
// one with the largest l(x) / g(x) (the first of equals).
std::vector<double> propose_by_ratio(const ProductKde& good, const ProductKde& bad,
                                     int64_t n_samples, double bandwidth_factor, Rng& rng);

}  // namespace nabla::hpo
