// The Gaussian process: kernel, Cholesky with jitter, the marginal likelihood and its gradient,
// the hyperparameter fit, the posterior and the acquisitions.
#include "hpo/gaussian_process.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "core/error.h"
#include "hpo/box_lbfgs.h"
#include "hpo/lapack.h"

namespace nabla::hpo {

namespace {

constexpr double kSqrt5 = 2.23606797749978969641;
const double kLogSqrt2Pi = 0.5 * std::log(2 * std::numbers::pi);

// -(1 / r) d matern52 / dr, finite at r = 0: what every derivative of the kernel goes through,
// since d r / d(anything) carries a 1 / r that this cancels.
double matern52_slope(double r) { return 5.0 / 3.0 * (1 + kSqrt5 * r) * std::exp(-kSqrt5 * r); }

// Note [gp hyperprior]: independent normal densities on the log-hyperparameters, broad enough that
// a dozen observations outweigh them, there only to keep an under-determined fit away from
// degenerate corners (lengthscales far beyond the unit cube, or so short that the model
// interpolates noise). The inputs live on [0, 1] and the outputs are standardized, so one centre
// fits every study: lengthscale 0.5 (sd 1 in log), signal variance 1 (sd 1), noise variance 1e-4
// (sd 2, so a noiseless objective is free to go down to the 1e-6 floor).
struct PriorTerm {
  double centre, sd, lo, hi;
};
const PriorTerm kLengthscalePrior{std::log(0.5), 1.0, std::log(0.01), std::log(20.0)};
const PriorTerm kSignalPrior{0.0, 1.0, std::log(0.05), std::log(20.0)};
const PriorTerm kNoisePrior{std::log(1e-4), 2.0, std::log(1e-6), std::log(0.5)};

const PriorTerm& prior_term(int64_t dims, int64_t k) {
  if (k < dims) return kLengthscalePrior;
  return k == dims ? kSignalPrior : kNoisePrior;
}

// cholesky's jitter escalation (see the header), reporting failure instead of throwing: the fit
// takes a theta whose covariance cannot be factored as infinitely unlikely.
bool try_cholesky(std::vector<double>& a, int64_t n, double& jitter) {
  const int size = static_cast<int>(n);
  double mean_diagonal = 0;
  for (int64_t i = 0; i < n; ++i) mean_diagonal += a[i * n + i];
  mean_diagonal /= static_cast<double>(n);
  const std::vector<double> original = a;
  jitter = 0;
  if (lapack::potrf(size, a.data()) == 0) return true;
  for (double scale = 1e-10; scale <= 1.0001e-2; scale *= 10) {
    a = original;
    jitter = scale * mean_diagonal;
    for (int64_t i = 0; i < n; ++i) a[i * n + i] += jitter;
    if (lapack::potrf(size, a.data()) == 0) return true;
  }
  return false;
}

// Per-input distance terms d_k(x_i, x_j) of every pair i > j (j-major order): they do not depend
// on theta, so a fit computes them once for all its likelihood evaluations.
std::vector<double> pair_terms(const GpData& data) {
  const int64_t n = data.size(), dims = data.dims;
  std::vector<double> terms;
  terms.reserve(static_cast<size_t>(n * (n - 1) / 2 * dims));
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = j + 1; i < n; ++i)
      for (int64_t k = 0; k < dims; ++k) {
        const double a = data.x[i * dims + k];
        const double b = data.x[j * dims + k];
        const bool hamming = !data.categorical.empty() && data.categorical[k];
        terms.push_back(hamming ? (a != b ? 1.0 : 0.0) : (a - b) * (a - b));
      }
  return terms;
}

double log_marginal_likelihood(const GpData& data, const std::vector<double>& terms,
                               const std::vector<double>& theta, std::vector<double>* gradient) {
  const int64_t n = data.size(), dims = data.dims;
  NABLA_CHECK(static_cast<int64_t>(theta.size()) == gp_theta_size(dims), ValueError,
              "gp_log_marginal_likelihood: theta has ", theta.size(), " numbers, expected ",
              gp_theta_size(dims), " for ", dims, " inputs");
  std::vector<double> inverse_l2(static_cast<size_t>(dims));
  for (int64_t k = 0; k < dims; ++k) inverse_l2[k] = std::exp(-2 * theta[k]);
  const double signal = std::exp(theta[dims]);
  const double noise = std::exp(theta[dims + 1]);

  // K: [n, n] column-major, lower triangle. kf and slope per pair, for the gradient.
  std::vector<double> K(static_cast<size_t>(n * n), 0.0), kf, slope;
  if (gradient) {
    kf.reserve(static_cast<size_t>(n * (n - 1) / 2));
    slope.reserve(kf.capacity());
  }
  size_t p = 0;
  for (int64_t j = 0; j < n; ++j) {
    K[j * n + j] = signal + noise;
    for (int64_t i = j + 1; i < n; ++i, ++p) {
      double r2 = 0;
      for (int64_t k = 0; k < dims; ++k) r2 += terms[p * dims + k] * inverse_l2[k];
      const double r = std::sqrt(r2);
      const double value = signal * matern52(r);
      K[j * n + i] = value;
      if (gradient) {
        kf.push_back(value);
        slope.push_back(signal * matern52_slope(r));
      }
    }
  }
  double jitter = 0;
  if (!try_cholesky(K, n, jitter)) return -std::numeric_limits<double>::infinity();
  std::vector<double> alpha = data.y;
  lapack::potrs(static_cast<int>(n), 1, K.data(), alpha.data());
  double fit = 0, log_det = 0;
  for (int64_t i = 0; i < n; ++i) {
    fit += data.y[i] * alpha[i];
    log_det += std::log(K[i * n + i]);
  }
  const double lml = -0.5 * fit - log_det - static_cast<double>(n) * kLogSqrt2Pi;
  if (!gradient) return lml;

  // d lml / d theta = tr(W dK / d theta) / 2 with W = alpha alpha^T - K^-1 (R&W eq. 5.9); W and
  // every dK are symmetric, so the strict lower triangle counts twice and cancels the half.
  std::vector<double>& g = *gradient;
  g.assign(theta.size(), 0.0);
  lapack::potri(static_cast<int>(n), K.data());
  p = 0;
  double diagonal = 0;
  for (int64_t j = 0; j < n; ++j) {
    const double aj = alpha[j];
    diagonal += aj * aj - K[j * n + j];
    for (int64_t i = j + 1; i < n; ++i, ++p) {
      const double w = alpha[i] * aj - K[j * n + i];
      // dK_ij / d log l_k = s2 * slope(r) * d_k / l_k^2.
      const double ws = w * slope[p];
      for (int64_t k = 0; k < dims; ++k) g[k] += ws * terms[p * dims + k];
      g[dims] += w * kf[p];
    }
  }
  for (int64_t k = 0; k < dims; ++k) g[k] *= inverse_l2[k];
  g[dims] += 0.5 * diagonal * signal;
  g[dims + 1] = 0.5 * diagonal * noise;
  return lml;
}

// Phi(-t) / phi(t) for t >= 1 (Mills' ratio): through the scaled complementary error function
// exp(u^2) erfc(u) while that product stays in range, then by its asymptotic series
// (Abramowitz & Stegun 7.1.23), whose next term is below 1e-10 relative at t = 35.
double mills_ratio(double t) {
  if (t <= 35) {
    const double u = t / std::numbers::sqrt2;
    return std::sqrt(std::numbers::pi / 2) * std::exp(u * u) * std::erfc(u);
  }
  const double s = 1 / (t * t);
  return (1 - s * (1 - 3 * s * (1 - 5 * s * (1 - 7 * s)))) / t;
}

double log_phi(double z) { return -0.5 * z * z - kLogSqrt2Pi; }

double log_Phi(double z) {
  if (z > -1) return std::log(0.5 * std::erfc(-z / std::numbers::sqrt2));
  return log_phi(z) + std::log(mills_ratio(-z));
}

// log h(z), h(z) = phi(z) + z Phi(z) = phi(z) (1 - t R(t)) for z = -t < 0 with R Mills' ratio.
// Directly above z = -1; below, 1 - t R(t) through log1p, and past t = 35, where t R(t) is within
// 1e-3 of 1, through the series 1 - t R(t) = s (1 - 3 s + 15 s^2 - 105 s^3 + 945 s^4 ...),
// s = 1 / t^2 (Ament et al. 2023 take the same three branches, with the leading term only).
double log_h(double z) {
  if (z > -1) return std::log(std::exp(log_phi(z)) + z * 0.5 * std::erfc(-z / std::numbers::sqrt2));
  const double t = -z;
  if (t <= 35) return log_phi(z) + std::log1p(-t * mills_ratio(t));
  const double s = 1 / (t * t);
  return log_phi(z) + std::log(s) + std::log1p(-3 * s * (1 - 5 * s * (1 - 7 * s * (1 - 9 * s))));
}

}  // namespace

double matern52(double r) { return (1 + kSqrt5 * r + 5.0 / 3.0 * r * r) * std::exp(-kSqrt5 * r); }

int64_t gp_theta_size(int64_t dims) { return dims + 2; }

double cholesky(std::vector<double>& a, int64_t n) {
  NABLA_CHECK(n >= 1 && static_cast<int64_t>(a.size()) == n * n, ValueError,
              "cholesky: expected an n x n matrix with n >= 1, got ", a.size(),
              " numbers for n = ", n);
  double jitter = 0;
  NABLA_CHECK(try_cholesky(a, n, jitter), ValueError, "cholesky: the ", n, " x ", n,
              " matrix is not positive definite even with ", jitter,
              " added to its diagonal (1e-2 of its mean)");
  return jitter;
}

double gp_log_marginal_likelihood(const GpData& data, const std::vector<double>& theta,
                                  std::vector<double>* gradient) {
  NABLA_CHECK(data.size() >= 1 && static_cast<int64_t>(data.x.size()) == data.size() * data.dims,
              ValueError, "gp_log_marginal_likelihood: ", data.size(), " values but ",
              data.x.size(), " coordinates for ", data.dims, " inputs");
  return log_marginal_likelihood(data, pair_terms(data), theta, gradient);
}

double gp_log_prior(int64_t dims, const std::vector<double>& theta, std::vector<double>* gradient) {
  double log_p = 0;
  if (gradient) gradient->assign(theta.size(), 0.0);
  for (int64_t k = 0; k < gp_theta_size(dims); ++k) {
    const PriorTerm& term = prior_term(dims, k);
    const double z = (theta[k] - term.centre) / term.sd;
    log_p -= 0.5 * z * z;
    if (gradient) (*gradient)[k] = -z / term.sd;
  }
  return log_p;
}

void gp_theta_bounds(int64_t dims, std::vector<double>& lo, std::vector<double>& hi) {
  lo.clear();
  hi.clear();
  for (int64_t k = 0; k < gp_theta_size(dims); ++k) {
    lo.push_back(prior_term(dims, k).lo);
    hi.push_back(prior_term(dims, k).hi);
  }
}

void GpFitOptions::validate() const {
  NABLA_CHECK(restarts >= 1, ValueError, "GpFitOptions::validate: restarts must be >= 1, got ",
              restarts);
  NABLA_CHECK(max_iterations >= 1, ValueError,
              "GpFitOptions::validate: max_iterations must be >= 1, got ", max_iterations);
}

std::vector<double> fit_gp_hyperparameters(const GpData& data, Rng& rng,
                                           const GpFitOptions& options) {
  options.validate();
  NABLA_CHECK(data.size() >= 1 && static_cast<int64_t>(data.x.size()) == data.size() * data.dims,
              ValueError, "fit_gp_hyperparameters: ", data.size(), " values but ", data.x.size(),
              " coordinates for ", data.dims, " inputs");
  const int64_t dims = data.dims, size = gp_theta_size(dims);
  const std::vector<double> terms = pair_terms(data);
  std::vector<double> lo, hi, prior_gradient;
  gp_theta_bounds(dims, lo, hi);
  auto objective = [&](const std::vector<double>& theta, std::vector<double>& g) {
    const double value = log_marginal_likelihood(data, terms, theta, &g) +
                         gp_log_prior(dims, theta, &prior_gradient);
    for (int64_t k = 0; k < size; ++k) g[k] = -(g[k] + prior_gradient[k]);
    return -value;
  };
  BoxLbfgsOptions lbfgs{.max_iterations = options.max_iterations,
                        .gradient_tolerance = 1e-5,
                        .value_tolerance = 1e-9};
  std::vector<double> best;
  double best_value = std::numeric_limits<double>::infinity();
  for (int64_t run = 0; run < options.restarts; ++run) {
    std::vector<double> start;
    for (int64_t k = 0; k < size; ++k) {
      const PriorTerm& term = prior_term(dims, k);
      start.push_back(run == 0 ? term.centre : term.centre + term.sd * rng.normal());
    }
    BoxLbfgsResult result = minimize_box(objective, std::move(start), lo, hi, lbfgs);
    if (result.value < best_value) {
      best_value = result.value;
      best = std::move(result.x);
    }
  }
  NABLA_CHECK(!best.empty(), ValueError, "fit_gp_hyperparameters: the covariance of ", data.size(),
              " observations could not be factored at any start");
  return best;
}

GaussianProcess::GaussianProcess(GpData data, std::vector<double> theta)
    : data_(std::move(data)), theta_(std::move(theta)) {
  const int64_t n = data_.size(), dims = data_.dims;
  NABLA_CHECK(n >= 1 && static_cast<int64_t>(data_.x.size()) == n * dims, ValueError,
              "GaussianProcess: ", n, " values but ", data_.x.size(), " coordinates for ", dims,
              " inputs");
  NABLA_CHECK(static_cast<int64_t>(theta_.size()) == gp_theta_size(dims), ValueError,
              "GaussianProcess: theta has ", theta_.size(), " numbers, expected ",
              gp_theta_size(dims));
  for (int64_t k = 0; k < dims; ++k)
    inverse_squared_lengthscales_.push_back(std::exp(-2 * theta_[k]));
  signal_variance_ = std::exp(theta_[dims]);
  const double noise = std::exp(theta_[dims + 1]);
  factor_.assign(static_cast<size_t>(n * n), 0.0);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = j; i < n; ++i)
      factor_[j * n + i] = kernel(&data_.x[i * dims], &data_.x[j * dims]) + (i == j ? noise : 0.0);
  jitter_ = cholesky(factor_, n);
  alpha_ = data_.y;
  lapack::potrs(static_cast<int>(n), 1, factor_.data(), alpha_.data());
}

double GaussianProcess::kernel(const double* a, const double* b) const {
  double r2 = 0;
  for (int64_t k = 0; k < data_.dims; ++k) {
    const bool hamming = !data_.categorical.empty() && data_.categorical[k];
    const double d = a[k] - b[k];
    r2 += (hamming ? (d != 0 ? 1.0 : 0.0) : d * d) * inverse_squared_lengthscales_[k];
  }
  return signal_variance_ * matern52(std::sqrt(r2));
}

void GaussianProcess::predict(const std::vector<double>& points, std::vector<double>& mean,
                              std::vector<double>& variance) const {
  const int64_t n = data_.size(), dims = data_.dims;
  NABLA_CHECK(dims > 0 && points.size() % static_cast<size_t>(dims) == 0, ValueError,
              "GaussianProcess::predict: ", points.size(), " coordinates are not whole points of ",
              dims);
  const int64_t m = static_cast<int64_t>(points.size()) / dims;
  // Ks: [n, m] column-major, then L^-1 Ks in place: var = s2 - |L^-1 k|^2.
  std::vector<double> ks(static_cast<size_t>(n * m));
  mean.assign(static_cast<size_t>(m), 0.0);
  variance.assign(static_cast<size_t>(m), signal_variance_);
  for (int64_t j = 0; j < m; ++j)
    for (int64_t i = 0; i < n; ++i) {
      const double k = kernel(&data_.x[i * dims], &points[j * dims]);
      ks[j * n + i] = k;
      mean[j] += k * alpha_[i];
    }
  lapack::trtrs_lower(static_cast<int>(n), static_cast<int>(m), factor_.data(), ks.data());
  for (int64_t j = 0; j < m; ++j) {
    double& v = variance[j];
    for (int64_t i = 0; i < n; ++i) v -= ks[j * n + i] * ks[j * n + i];
    v = std::max(v, 0.0);
  }
}

void GaussianProcess::predict(const double* point, double& mean, double& variance, double* d_mean,
                              double* d_variance) const {
  const int64_t n = data_.size(), dims = data_.dims;
  std::vector<double> k(static_cast<size_t>(n)), dk(static_cast<size_t>(n * dims), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    const double* xi = &data_.x[i * dims];
    double r2 = 0;
    for (int64_t d = 0; d < dims; ++d) {
      const bool hamming = !data_.categorical.empty() && data_.categorical[d];
      const double diff = point[d] - xi[d];
      r2 += (hamming ? (diff != 0 ? 1.0 : 0.0) : diff * diff) * inverse_squared_lengthscales_[d];
    }
    const double r = std::sqrt(r2);
    k[i] = signal_variance_ * matern52(r);
    // d k / d point_d = -s2 * slope(r) * (point_d - x_id) / l_d^2.
    const double slope = signal_variance_ * matern52_slope(r);
    for (int64_t d = 0; d < dims; ++d) {
      if (!data_.categorical.empty() && data_.categorical[d]) continue;
      dk[i * dims + d] = -slope * (point[d] - xi[d]) * inverse_squared_lengthscales_[d];
    }
  }
  std::vector<double> w = k;  // K^-1 k
  lapack::potrs(static_cast<int>(n), 1, factor_.data(), w.data());
  mean = 0;
  variance = signal_variance_;
  for (int64_t i = 0; i < n; ++i) {
    mean += k[i] * alpha_[i];
    variance -= k[i] * w[i];
  }
  const bool clamped = variance < 0;
  variance = std::max(variance, 0.0);
  for (int64_t d = 0; d < dims; ++d) {
    double dm = 0, dv = 0;
    for (int64_t i = 0; i < n; ++i) {
      dm += alpha_[i] * dk[i * dims + d];
      dv -= 2 * w[i] * dk[i * dims + d];
    }
    d_mean[d] = dm;
    d_variance[d] = clamped ? 0.0 : dv;
  }
}

double log_expected_improvement(double mean, double sd, double best, double* d_mean, double* d_sd) {
  NABLA_CHECK(sd > 0, ValueError, "log_expected_improvement: sd must be > 0, got ", sd);
  const double z = (mean - best) / sd;
  const double lh = log_h(z);
  // d log EI / d mean = (Phi / h) / sd and d log EI / d sd = (phi / h) / sd, since h' = Phi and
  // h - z Phi = phi; both ratios through logarithms, as h underflows long before they do.
  if (d_mean) *d_mean = std::exp(log_Phi(z) - lh) / sd;
  if (d_sd) *d_sd = std::exp(log_phi(z) - lh) / sd;
  return std::log(sd) + lh;
}

double upper_confidence_bound(double mean, double sd, double beta) {
  return mean + std::sqrt(beta) * sd;
}

}  // namespace nabla::hpo
