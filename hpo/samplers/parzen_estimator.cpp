// The Parzen estimator: kernel centres and bandwidths, log densities and masses, and draws.
#include "hpo/samplers/parzen_estimator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <optional>

#include "core/error.h"

namespace nabla::hpo {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kInvSqrt2 = 1 / std::numbers::sqrt2;
const double kLogSqrt2Pi = 0.5 * std::log(2 * std::numbers::pi);

// log(1 - Phi(x)) for x >= 0; past x = 30 erfc underflows soon, so the asymptotic series of the
// Mills ratio takes over (its next term is below 1e-7 there).
double log_upper_tail(double x) {
  if (x == kInf) return -kInf;
  if (x < 30) return std::log(0.5 * std::erfc(x * kInvSqrt2));
  const double x2 = x * x;
  return -0.5 * x2 - std::log(x) - kLogSqrt2Pi + std::log1p(-1 / x2 + 3 / (x2 * x2));
}

// log(Phi(b) - Phi(a)) for a <= b, accurate in both tails: there it is a difference of upper
// tails (mirrored for the lower one), around the centre a difference of erfs of opposite signs.
double log_normal_mass(double a, double b) {
  if (b <= 0) {
    const double mirrored = -a;
    a = -b;
    b = mirrored;
  }
  if (a >= 0) {
    const double la = log_upper_tail(a), lb = log_upper_tail(b);
    if (la == -kInf) return -kInf;
    return la + std::log(-std::expm1(lb - la));
  }
  return std::log(0.5 * (std::erf(b * kInvSqrt2) - std::erf(a * kInvSqrt2)));
}

// Phi(b) - Phi(a) for a <= b, the same way round as log_normal_mass but without the logs.
double normal_mass(double a, double b) {
  if (a > 40 || b < -40) return 0;  // beyond what a double holds
  if (a >= 0) return 0.5 * (std::erfc(a * kInvSqrt2) - std::erfc(b * kInvSqrt2));
  if (b <= 0) return 0.5 * (std::erfc(-b * kInvSqrt2) - std::erfc(-a * kInvSqrt2));
  return 0.5 * (std::erf(b * kInvSqrt2) - std::erf(a * kInvSqrt2));
}

// Rejection from the untruncated Gaussian: with lo <= mu <= hi and sigma <= hi - lo (both hold for
// every kernel here) at least Phi(1) - Phi(0) = 34% of the draws land inside.
double truncated_normal(Rng& rng, double mu, double sigma, double lo, double hi) {
  for (;;) {
    const double y = mu + sigma * rng.normal();
    if (y >= lo && y <= hi) return y;
  }
}

}  // namespace

void ParzenOptions::validate() const {
  NABLA_CHECK(std::isfinite(prior_weight) && prior_weight > 0, ValueError,
              "ParzenOptions: prior_weight must be finite and > 0, got ", prior_weight);
}

ParzenEstimator::ParzenEstimator(std::vector<Distribution> dims,
                                 const std::vector<std::vector<double>>& columns,
                                 const std::vector<double>& weights, const ParzenOptions& options) {
  options.validate();
  NABLA_CHECK(columns.size() == dims.size(), ValueError, "ParzenEstimator: ", columns.size(),
              " columns of observations for ", dims.size(), " dimensions");
  for (size_t d = 0; d < columns.size(); ++d)
    NABLA_CHECK(columns[d].size() == weights.size(), ValueError,
                "ParzenEstimator: ", columns[d].size(), " observations on dimension ", d, " but ",
                weights.size(), " weights");
  std::vector<size_t> kept;  // observations of positive weight
  for (size_t i = 0; i < weights.size(); ++i) {
    NABLA_CHECK(std::isfinite(weights[i]) && weights[i] >= 0, ValueError,
                "ParzenEstimator: observation ", i, " has weight ", weights[i],
                ", expected finite and >= 0");
    if (weights[i] > 0) kept.push_back(i);
  }
  const bool with_prior = options.consider_prior || kept.empty();
  const size_t n_kernels = kept.size() + (with_prior ? 1 : 0);
  for (size_t i : kept) weights_.push_back(weights[i]);
  if (with_prior) weights_.push_back(kept.empty() ? 1.0 : options.prior_weight);
  double total = 0;
  for (double w : weights_) total += w;
  for (double& w : weights_) {
    w /= total;
    cumulative_.push_back((cumulative_.empty() ? 0 : cumulative_.back()) + w);
  }
  log_offset_.resize(n_kernels);
  for (size_t k = 0; k < n_kernels; ++k) log_offset_[k] = std::log(weights_[k]);

  for (size_t d = 0; d < dims.size(); ++d) {
    NABLA_CHECK(!is_single(dims[d]), ValueError, "ParzenEstimator: dimension ", d,
                " has a single value, ", to_json(dims[d]).dump());
    Dim dim;
    dim.distribution = dims[d];
    if (const auto* f = std::get_if<FloatDistribution>(&dims[d])) {
      dim.log = f->log;
      dim.kind = f->step ? Kind::discrete : Kind::continuous;
      dim.half_step = f->step ? *f->step / 2 : 0;
      dim.lo = f->low - dim.half_step;
      dim.hi = f->high + dim.half_step;
    } else if (const auto* in = std::get_if<IntDistribution>(&dims[d])) {
      dim.log = in->log;
      dim.kind = Kind::discrete;
      dim.half_step = static_cast<double>(in->step) / 2;
      dim.lo = static_cast<double>(in->low) - dim.half_step;
      dim.hi = static_cast<double>(in->high) + dim.half_step;
    } else {
      dim.kind = Kind::categorical;
      dim.n_choices =
          static_cast<int64_t>(std::get<CategoricalDistribution>(dims[d]).choices.size());
    }
    if (dim.log) {
      dim.lo = std::log(dim.lo);
      dim.hi = std::log(dim.hi);
    }

    if (dim.kind == Kind::categorical) {
      for (size_t i : kept) {
        const double x = columns[d][i];
        NABLA_CHECK(x >= 0 && x < static_cast<double>(dim.n_choices) && x == std::round(x),
                    ValueError, "ParzenEstimator: observation ", i, " has choice index ", x,
                    " on dimension ", d, ", which has ", dim.n_choices, " choices");
        dim.choice.push_back(static_cast<int64_t>(x));
      }
      if (with_prior) dim.choice.push_back(-1);
      if (options.multivariate && with_prior && !kept.empty()) dim.smoothing = weights_.back();
      dims_.push_back(std::move(dim));
      continue;
    }

    const double range = dim.hi - dim.lo;
    for (size_t i : kept) {
      const double x = columns[d][i];
      const double y = dim.log ? std::log(x) : x;
      NABLA_CHECK(y >= dim.lo && y <= dim.hi, ValueError, "ParzenEstimator: observation ", i,
                  " has value ", x, " on dimension ", d, ", outside ", to_json(dims[d]).dump());
      dim.mu.push_back(y);
    }
    if (with_prior) dim.mu.push_back((dim.lo + dim.hi) / 2);
    const double k_count = static_cast<double>(n_kernels);
    const double min_sigma =
        options.consider_magic_clip ? range / std::min(100.0, 1.0 + k_count) : 1e-12 * range;
    dim.sigma.resize(n_kernels);
    if (options.multivariate) {
      const double scott =
          0.2 * range * std::pow(k_count, -1.0 / (static_cast<double>(dims.size()) + 4));
      std::fill(dim.sigma.begin(), dim.sigma.end(), scott);
    } else {
      // (centre, kernel) pairs sort ties by kernel, as a stable sort would.
      std::vector<std::pair<double, size_t>> sorted(n_kernels);
      for (size_t k = 0; k < n_kernels; ++k) sorted[k] = {dim.mu[k], k};
      std::sort(sorted.begin(), sorted.end());
      for (size_t r = 0; r < n_kernels; ++r) {
        const double c = sorted[r].first;
        std::optional<double> left, right;
        if (r > 0)
          left = c - sorted[r - 1].first;
        else if (options.consider_endpoints)
          left = c - dim.lo;
        if (r + 1 < n_kernels)
          right = sorted[r + 1].first - c;
        else if (options.consider_endpoints)
          right = dim.hi - c;
        double s;
        if (left && right)
          s = std::max(*left, *right);
        else if (left || right)
          s = left ? *left : *right;
        else
          s = std::max(c - dim.lo, dim.hi - c);  // a lone kernel: the bounds are all there is
        dim.sigma[sorted[r].second] = s;
      }
    }
    for (double& s : dim.sigma) s = std::clamp(s, min_sigma, range);
    if (with_prior) dim.sigma.back() = range;
    for (size_t k = 0; k < n_kernels; ++k) {
      const double a = (dim.lo - dim.mu[k]) / dim.sigma[k], b = (dim.hi - dim.mu[k]) / dim.sigma[k];
      // Eight sigmas from both bounds the truncation keeps all but 1.2e-15 of the mass.
      if (a > -8 || b < 8) log_offset_[k] -= log_normal_mass(a, b);
      if (dim.kind == Kind::continuous) log_offset_[k] -= std::log(dim.sigma[k]) + kLogSqrt2Pi;
    }
    dims_.push_back(std::move(dim));
  }
  for (double offset : log_offset_) scale_.push_back(std::exp(offset));
  for (Dim& dim : dims_)
    for (double s : dim.sigma) dim.inv_sigma.push_back(1 / s);
}

ParzenEstimator::Query ParzenEstimator::query(const Dim& dim, double x) {
  Query q;
  switch (dim.kind) {
    case Kind::continuous:
      q.lo = dim.log ? std::log(x) : x;
      q.jacobian = dim.log ? -q.lo : 0.0;
      break;
    case Kind::discrete:
      q.lo = x - dim.half_step;
      q.hi = x + dim.half_step;
      if (dim.log) {
        q.lo = std::log(q.lo);
        q.hi = std::log(q.hi);
      }
      break;
    case Kind::categorical:
      q.choice = std::llround(x);
      break;
  }
  return q;
}

double ParzenEstimator::log_kernel(const Dim& dim, size_t k, const Query& q) const {
  switch (dim.kind) {
    case Kind::continuous: {
      const double z = (q.lo - dim.mu[k]) * dim.inv_sigma[k];
      return -0.5 * z * z + q.jacobian;
    }
    case Kind::discrete:
      return log_normal_mass((q.lo - dim.mu[k]) * dim.inv_sigma[k],
                             (q.hi - dim.mu[k]) * dim.inv_sigma[k]);
    case Kind::categorical: {
      const double p = kernel(dim, k, q);
      return p > 0 ? std::log(p) : -kInf;
    }
  }
  return -kInf;
}

double ParzenEstimator::kernel(const Dim& dim, size_t k, const Query& q) const {
  switch (dim.kind) {
    case Kind::continuous: {
      // Past 745 exp underflows anyway, through libm's slow path.
      const double z = (q.lo - dim.mu[k]) * dim.inv_sigma[k], half_square = 0.5 * z * z;
      return half_square > 745 ? 0.0 : std::exp(-half_square);
    }
    case Kind::discrete:
      return normal_mass((q.lo - dim.mu[k]) * dim.inv_sigma[k],
                         (q.hi - dim.mu[k]) * dim.inv_sigma[k]);
    case Kind::categorical: {
      const int64_t c = dim.choice[k];
      const double uniform = 1 / static_cast<double>(dim.n_choices);
      if (c < 0) return uniform;
      return (q.choice == c ? 1 - dim.smoothing : 0.0) + dim.smoothing * uniform;
    }
  }
  return 0;
}

double ParzenEstimator::log_pdf(std::span<const double> point) const {
  NABLA_CHECK(point.size() == dims_.size(), ValueError, "ParzenEstimator::log_pdf: a point of ",
              point.size(), " values for ", dims_.size(), " dimensions");
  std::vector<Query> queries;
  double jacobian = 0;
  for (size_t d = 0; d < dims_.size(); ++d) {
    queries.push_back(query(dims_[d], point[d]));
    jacobian += queries.back().jacobian;
  }
  // Note [Parzen sums]: the mixture is summed as plain numbers, one exp (or one difference of
  // normal CDFs) per kernel and dimension, with each kernel's constants folded into scale_. Only
  // when that sum underflows (every kernel far out in its tails) is it summed again in logs.
  double sum = 0;
  for (size_t k = 0; k < scale_.size(); ++k) {
    double term = scale_[k];
    for (size_t d = 0; d < dims_.size() && term > 0; ++d) term *= kernel(dims_[d], k, queries[d]);
    sum += term;
  }
  if (std::isnormal(sum)) return std::log(sum) + jacobian;
  // Log-sum-exp in one pass, rescaling whenever a larger term turns up.
  double top = -kInf;
  sum = 0;
  for (size_t k = 0; k < log_offset_.size(); ++k) {
    double s = log_offset_[k];
    for (size_t d = 0; d < dims_.size() && s > -kInf; ++d) s += log_kernel(dims_[d], k, queries[d]);
    if (s == -kInf) continue;
    if (s > top) {
      sum = sum * std::exp(top - s) + 1;
      top = s;
    } else {
      sum += std::exp(s - top);
    }
  }
  return top == -kInf ? -kInf : top + std::log(sum);
}

std::vector<std::vector<double>> ParzenEstimator::sample(Rng& rng, int64_t n) const {
  std::vector<std::vector<double>> points(static_cast<size_t>(n));
  for (auto& point : points) {
    const double u = rng.uniform();
    size_t k = static_cast<size_t>(std::upper_bound(cumulative_.begin(), cumulative_.end(), u) -
                                   cumulative_.begin());
    k = std::min(k, weights_.size() - 1);  // u past a total rounded below 1
    for (const Dim& dim : dims_) {
      if (dim.kind == Kind::categorical) {
        const int64_t c = dim.choice[k];
        const bool uniform = c < 0 || (dim.smoothing > 0 && rng.uniform() < dim.smoothing);
        point.push_back(static_cast<double>(uniform ? rng.integer(dim.n_choices) : c));
        continue;
      }
      const double y = truncated_normal(rng, dim.mu[k], dim.sigma[k], dim.lo, dim.hi);
      // Rounding to the grid is Note [discretized kernels]; on continuous ranges snap only
      // clamps what exp() rounded past a bound.
      point.push_back(snap(dim.distribution, dim.log ? std::exp(y) : y));
    }
  }
  return points;
}

double ParzenEstimator::mu(int64_t dim, int64_t k) const {
  NABLA_CHECK(dim >= 0 && dim < static_cast<int64_t>(dims_.size()) &&
                  dims_[static_cast<size_t>(dim)].kind != Kind::categorical && k >= 0 &&
                  k < kernels(),
              ValueError, "ParzenEstimator::mu: no numerical dimension ", dim, " with kernel ", k);
  return dims_[static_cast<size_t>(dim)].mu[static_cast<size_t>(k)];
}

double ParzenEstimator::sigma(int64_t dim, int64_t k) const {
  NABLA_CHECK(
      dim >= 0 && dim < static_cast<int64_t>(dims_.size()) &&
          dims_[static_cast<size_t>(dim)].kind != Kind::categorical && k >= 0 && k < kernels(),
      ValueError, "ParzenEstimator::sigma: no numerical dimension ", dim, " with kernel ", k);
  return dims_[static_cast<size_t>(dim)].sigma[static_cast<size_t>(k)];
}

}  // namespace nabla::hpo
