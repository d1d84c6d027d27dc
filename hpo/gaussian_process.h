// A Gaussian-process regression model for Bayesian optimization: a Matérn-5/2 kernel with one
// lengthscale per input (ARD), a signal and a noise variance fitted by maximizing the log marginal
// likelihood under a mild prior, its posterior, and the acquisitions that score new points.
#pragma once

#include <cstdint>
#include <vector>

#include "hpo/rng.h"

namespace nabla::hpo {

// The Matérn-5/2 correlation at scaled distance r (Rasmussen & Williams, "Gaussian Processes for
// Machine Learning", 2006, eq. 4.17): (1 + sqrt(5) r + 5 r^2 / 3) exp(-sqrt(5) r).
double matern52(double r);

// What the model learns from: n points on [0, 1]^dims and their values (standardized by the
// caller). A categorical input holds its choice's index and enters the distance as a Hamming
// term, [a != b] / l^2, instead of (a - b)^2 / l^2.
struct GpData {
  int64_t dims = 0;
  std::vector<double> x{};             // [n, dims], row-major
  std::vector<double> y{};             // [n]
  std::vector<uint8_t> categorical{};  // [dims]; empty: none

  int64_t size() const { return static_cast<int64_t>(y.size()); }
};

// Note [gp hyperparameters]: the model's hyperparameters are one vector theta of dims + 2 numbers,
// all logarithms so that the fit is unconstrained in scale: theta[k] = log l_k (the lengthscale
// of input k), theta[dims] = log s2 (the signal variance), theta[dims + 1] = log n2 (the noise
// variance). The kernel is k(a, b) = s2 * matern52(r) with r^2 = sum_k d_k(a, b) / l_k^2, and the
// covariance of the observations adds n2 on the diagonal.
int64_t gp_theta_size(int64_t dims);

// The lower Cholesky factor of the symmetric n x n matrix `a` (column-major; the lower triangle is
// read), in place, through LAPACK. When the matrix is not numerically positive definite, jitter *
// I is added, from 1e-10 up to 1e-2 times the mean diagonal, ten times larger at each try. Returns
// the jitter added (0 when none was needed); a ValueError when every try fails.
double cholesky(std::vector<double>& a, int64_t n);

// The log marginal likelihood of data.y under theta (R&W eq. 2.30), and its gradient in theta
// (R&W eq. 5.9) when `gradient` is given.
double gp_log_marginal_likelihood(const GpData& data, const std::vector<double>& theta,
                                  std::vector<double>* gradient = nullptr);
// The log density (up to a constant) of the prior over theta, and its gradient (Note [gp
// hyperprior] in gaussian_process.cpp).
double gp_log_prior(int64_t dims, const std::vector<double>& theta,
                    std::vector<double>* gradient = nullptr);
// The box the fit searches theta in.
void gp_theta_bounds(int64_t dims, std::vector<double>& lo, std::vector<double>& hi);

struct GpFitOptions {
  // L-BFGS runs: one from the prior's centre, the others from draws of the prior.
  int64_t restarts = 3;
  int64_t max_iterations = 60;  // per run

  // A ValueError naming the first bad option and its value.
  void validate() const;
};

// The maximum a posteriori theta: the best of the runs of L-BFGS (analytic gradient) over the
// box, on the log marginal likelihood plus the log prior. `rng` draws the restarts' starts.
std::vector<double> fit_gp_hyperparameters(const GpData& data, Rng& rng,
                                           const GpFitOptions& options = {});

// The posterior given data and theta: its mean and the variance of the latent function (the
// observation noise left out: what an acquisition wants).
class GaussianProcess {
 public:
  GaussianProcess(GpData data, std::vector<double> theta);

  // k(a, b) for two points of dims coordinates.
  double kernel(const double* a, const double* b) const;
  // At m points, [m, dims] row-major.
  void predict(const std::vector<double>& points, std::vector<double>& mean,
               std::vector<double>& variance) const;
  // At one point, with the gradients in its coordinates (zero for categorical ones).
  void predict(const double* point, double& mean, double& variance, double* d_mean,
               double* d_variance) const;

  const GpData& data() const { return data_; }
  const std::vector<double>& theta() const { return theta_; }
  double jitter() const { return jitter_; }  // what cholesky had to add

 private:
  GpData data_;
  std::vector<double> theta_;
  std::vector<double> inverse_squared_lengthscales_;
  double signal_variance_ = 1;
  double jitter_ = 0;
  std::vector<double> factor_;  // L, [n, n] column-major: L L^T = K + (n2 + jitter) I
  std::vector<double> alpha_;   // (K + (n2 + jitter) I)^-1 y
};

// Acquisitions, for maximizing the modelled function; `best` is the best value observed.
// log EI: the logarithm of expected improvement, sd * h((mean - best) / sd) with
// h(z) = phi(z) + z Phi(z), computed without underflow far below the best (Ament et al.,
// "Unexpected Improvements to Expected Improvement for Bayesian Optimization", NeurIPS 2023).
// Its partial derivatives in mean and sd when asked; sd must be > 0.
double log_expected_improvement(double mean, double sd, double best, double* d_mean = nullptr,
                                double* d_sd = nullptr);
// The upper confidence bound mean + sqrt(beta) sd (Srinivas et al., ICML 2010).
double upper_confidence_bound(double mean, double sd, double beta);

}  // namespace nabla::hpo
