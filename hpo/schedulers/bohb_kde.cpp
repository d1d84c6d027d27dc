// BOHB's kernel density estimates (Note [bohb kde]).
#include "hpo/schedulers/bohb_kde.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "core/error.h"

namespace nabla::hpo {

namespace {

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::numbers::sqrt2); }

// The normal reference rule's factor, n^(-1 / (d + 4)) times 1.06.
double scott_factor(size_t n, size_t d) {
  return 1.06 * std::pow(static_cast<double>(n), -1.0 / (static_cast<double>(d) + 4));
}

}  // namespace

ProductKde::ProductKde(std::vector<KdeDimension> dims, std::vector<std::vector<double>> points,
                       double min_bandwidth)
    : dims_(std::move(dims)), points_(std::move(points)) {
  const size_t d = dims_.size(), n = points_.size();
  NABLA_CHECK(n >= 1, ValueError, "ProductKde: needs at least one point");
  NABLA_CHECK(min_bandwidth > 0, ValueError, "ProductKde: min_bandwidth must be > 0, got ",
              min_bandwidth);
  for (size_t i = 0; i < n; ++i) {
    NABLA_CHECK(points_[i].size() == d, ValueError, "ProductKde: point ", i, " has ",
                points_[i].size(), " coordinates for ", d, " dimensions");
    for (size_t j = 0; j < d; ++j) {
      const double v = points_[i][j];
      const int64_t c = dims_[j].n_choices;
      NABLA_CHECK(c >= 0 && c != 1, ValueError, "ProductKde: dimension ", j, " has ", c,
                  " choices (0: continuous, else >= 2)");
      if (c == 0)
        NABLA_CHECK(v >= 0 && v <= 1, ValueError, "ProductKde: point ", i, " coordinate ", j, " = ",
                    v, " is outside [0, 1]");
      else
        NABLA_CHECK(v >= 0 && v < static_cast<double>(c) && v == std::floor(v), ValueError,
                    "ProductKde: point ", i, " coordinate ", j, " = ", v, " is not a choice of ",
                    c);
    }
  }
  const double factor = scott_factor(n, d);
  for (size_t j = 0; j < d; ++j) {
    const int64_t c = dims_[j].n_choices;
    double sigma = 0;
    if (c == 0) {
      double mean = 0, squares = 0;
      for (const auto& p : points_) mean += p[j];
      mean /= static_cast<double>(n);
      for (const auto& p : points_) squares += (p[j] - mean) * (p[j] - mean);
      sigma = std::sqrt(squares / static_cast<double>(n));
    } else {
      std::vector<double> counts(static_cast<size_t>(c), 0.0);
      for (const auto& p : points_) counts[static_cast<size_t>(p[j])] += 1;
      double purity = 0;
      for (double k : counts) purity += (k / static_cast<double>(n)) * (k / static_cast<double>(n));
      sigma = std::sqrt(std::max(0.0, 1 - purity));
    }
    double h = std::max(min_bandwidth, factor * sigma);
    if (c > 0) h = std::min(h, static_cast<double>(c - 1) / static_cast<double>(c));
    bandwidths_.push_back(h);
  }
  log_mass_.assign(n, std::vector<double>(d, 0.0));
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < d; ++j)
      if (dims_[j].n_choices == 0) {
        const double m = points_[i][j], h = bandwidths_[j];
        log_mass_[i][j] = std::log(normal_cdf((1 - m) / h) - normal_cdf(-m / h));
      }
}

double ProductKde::log_pdf(std::span<const double> x) const {
  const size_t d = dims_.size();
  NABLA_CHECK(x.size() == d, ValueError, "ProductKde::log_pdf: a point of ", x.size(),
              " coordinates for ", d, " dimensions");
  const double log_root_two_pi = 0.5 * std::log(2 * std::numbers::pi);
  std::vector<double> terms(points_.size(), 0.0);
  for (size_t i = 0; i < points_.size(); ++i) {
    for (size_t j = 0; j < d; ++j) {
      const double h = bandwidths_[j], m = points_[i][j];
      const int64_t c = dims_[j].n_choices;
      if (c == 0) {
        if (x[j] < 0 || x[j] > 1) return -std::numeric_limits<double>::infinity();
        const double z = (x[j] - m) / h;
        terms[i] += -0.5 * z * z - log_root_two_pi - std::log(h) - log_mass_[i][j];
      } else {
        terms[i] +=
            std::round(x[j]) == m ? std::log(1 - h) : std::log(h / static_cast<double>(c - 1));
      }
    }
  }
  const double top = *std::max_element(terms.begin(), terms.end());
  double sum = 0;
  for (double t : terms) sum += std::exp(t - top);
  return top + std::log(sum / static_cast<double>(points_.size()));
}

std::vector<double> ProductKde::sample(Rng& rng, double widen) const {
  const auto& center =
      points_[static_cast<size_t>(rng.integer(static_cast<int64_t>(points_.size())))];
  std::vector<double> x(dims_.size());
  for (size_t j = 0; j < dims_.size(); ++j) {
    const int64_t c = dims_[j].n_choices;
    if (c == 0) {
      // Rejection from the untruncated kernel: its mass on [0, 1] is at least
      // Phi(1 / h) - 1 / 2 (about 0.19 at h = 2), so few draws are lost.
      const double h = widen * bandwidths_[j];
      do x[j] = center[j] + h * rng.normal();
      while (x[j] < 0 || x[j] > 1);
    } else {
      const double lambda =
          std::min(widen * bandwidths_[j], static_cast<double>(c - 1) / static_cast<double>(c));
      x[j] = center[j];
      if (rng.uniform() < lambda) {
        const auto other = static_cast<double>(rng.integer(c - 1));
        x[j] = other < center[j] ? other : other + 1;
      }
    }
  }
  return x;
}

KdeSplit bohb_split(int64_t n_observations, double top_fraction, int64_t min_points) {
  // The 1e-9 keeps q n from landing just below the integer it means (0.29 * 100 is 28.99...).
  const auto top =
      static_cast<int64_t>(std::floor(top_fraction * static_cast<double>(n_observations) + 1e-9));
  KdeSplit split;
  split.n_good = std::min(n_observations, std::max(min_points, top));
  split.n_bad = std::min(n_observations, std::max(min_points, n_observations - split.n_good));
  return split;
}

std::vector<double> propose_by_ratio(const ProductKde& good, const ProductKde& bad,
                                     int64_t n_samples, double bandwidth_factor, Rng& rng) {
  NABLA_CHECK(n_samples >= 1, ValueError, "propose_by_ratio: n_samples must be >= 1, got ",
              n_samples);
  std::vector<double> best;
  double best_score = -std::numeric_limits<double>::infinity();
  for (int64_t k = 0; k < n_samples; ++k) {
    std::vector<double> x = good.sample(rng, bandwidth_factor);
    const double score = good.log_pdf(x) - bad.log_pdf(x);
    if (best.empty() || score > best_score) {
      best_score = score;
      best = std::move(x);
    }
  }
  return best;
}

}  // namespace nabla::hpo
