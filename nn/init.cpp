// Initializers. The simple ones are one in-place draw; orthogonal and truncated normal are
// computed in double on the host from a draw of the default generator, then copied in.
#include "nn/init.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "autograd/grad_mode.h"
#include "autograd/ops/inplace.h"
#include "core/creation.h"
#include "core/error.h"
#include "core/ops.h"

namespace nabla::nn::init {
namespace {

// The inverse of erf on (-1, 1): a closed-form first guess refined by Newton steps, accurate to
// double precision well inside the interval.
double erfinv(double y) {
  y = std::clamp(y, std::nextafter(-1.0, 0.0), std::nextafter(1.0, 0.0));
  const double a = 0.147;
  double log_term = std::log1p(-y * y);
  double first = 2 / (std::numbers::pi * a) + log_term / 2;
  double x = std::copysign(std::sqrt(std::sqrt(first * first - log_term / a) - first), y);
  for (int i = 0; i < 3; ++i) {
    double slope = 2 / std::sqrt(std::numbers::pi) * std::exp(-x * x);
    if (slope == 0) break;
    x -= (std::erf(x) - y) / slope;
  }
  return x;
}

void fill_from_host(const Tensor& t, const std::vector<double>& values) {
  NoGradGuard no_grad;
  core::copy_(t, from_vector(values, t.shape()));
}

double std_for(const Tensor& t, double a, FanMode mode, const std::string& nonlinearity) {
  auto [fan_in, fan_out] = fans(t);
  int64_t fan = mode == FanMode::fan_in ? fan_in : fan_out;
  NABLA_CHECK(fan > 0, ValueError, "kaiming init: tensor ", t.shape(), " has a zero fan");
  return calculate_gain(nonlinearity, a) / std::sqrt(double(fan));
}

}  // namespace

std::pair<int64_t, int64_t> fans(const Tensor& weight) {
  NABLA_CHECK(weight.dim() >= 2, ShapeError, "init::fans: need a weight with at least 2 dims, got ",
              weight.shape());
  int64_t receptive = 1;
  for (int64_t d = 2; d < weight.dim(); ++d) receptive *= weight.size(d);
  return {weight.size(1) * receptive, weight.size(0) * receptive};
}

double calculate_gain(const std::string& nonlinearity, double param) {
  if (nonlinearity == "linear" || nonlinearity == "conv2d" || nonlinearity == "sigmoid") return 1;
  if (nonlinearity == "tanh") return 5.0 / 3.0;
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu") return std::sqrt(2.0 / (1 + param * param));
  if (nonlinearity == "selu") return 0.75;
  NABLA_CHECK(false, ValueError, "init::calculate_gain: unknown nonlinearity '", nonlinearity,
              "'; known: linear, conv2d, sigmoid, tanh, relu, leaky_relu, selu");
  return 0;
}

void uniform_(const Tensor& t, double a, double b) {
  NoGradGuard no_grad;
  nabla::uniform_(t, a, b);
}

void normal_(const Tensor& t, double mean, double std) {
  NoGradGuard no_grad;
  nabla::normal_(t, mean, std);
}

void constant_(const Tensor& t, double value) {
  NoGradGuard no_grad;
  nabla::fill_(t, value);
}

void zeros_(const Tensor& t) { init::constant_(t, 0); }
void ones_(const Tensor& t) { init::constant_(t, 1); }

void xavier_uniform_(const Tensor& t, double gain) {
  auto [fan_in, fan_out] = fans(t);
  double bound = gain * std::sqrt(6.0 / double(fan_in + fan_out));
  init::uniform_(t, -bound, bound);
}

void xavier_normal_(const Tensor& t, double gain) {
  auto [fan_in, fan_out] = fans(t);
  init::normal_(t, 0, gain * std::sqrt(2.0 / double(fan_in + fan_out)));
}

void kaiming_uniform_(const Tensor& t, double a, FanMode mode, const std::string& nonlinearity) {
  double bound = std::sqrt(3.0) * std_for(t, a, mode, nonlinearity);
  init::uniform_(t, -bound, bound);
}

void kaiming_normal_(const Tensor& t, double a, FanMode mode, const std::string& nonlinearity) {
  init::normal_(t, 0, std_for(t, a, mode, nonlinearity));
}

void orthogonal_(const Tensor& t, double gain) {
  NABLA_CHECK(t.dim() >= 2, ShapeError, "init::orthogonal_: need at least 2 dims, got ", t.shape());
  const int64_t rows = t.size(0), cols = t.numel() / rows;
  // Orthonormalize the `small` columns of a [tall, small] Gaussian matrix, stored column-major.
  const int64_t tall = std::max(rows, cols), small = std::min(rows, cols);
  std::vector<double> q = randn({tall * small}, {.dtype = kFloat64}).to_vector<double>();
  for (int64_t j = 0; j < small; ++j) {
    double* column = q.data() + j * tall;
    // Two passes of modified Gram-Schmidt keep the columns orthogonal to rounding error.
    for (int pass = 0; pass < 2; ++pass) {
      for (int64_t k = 0; k < j; ++k) {
        const double* previous = q.data() + k * tall;
        double dot = 0;
        for (int64_t i = 0; i < tall; ++i) dot += previous[i] * column[i];
        for (int64_t i = 0; i < tall; ++i) column[i] -= dot * previous[i];
      }
    }
    double norm = 0;
    for (int64_t i = 0; i < tall; ++i) norm += column[i] * column[i];
    norm = std::sqrt(norm);
    for (int64_t i = 0; i < tall; ++i) column[i] /= norm;
  }
  // Row-major [rows, cols]: Q itself when rows >= cols, its transpose otherwise.
  std::vector<double> out(rows * cols);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      out[r * cols + c] = gain * (rows >= cols ? q[c * tall + r] : q[r * tall + c]);
    }
  }
  fill_from_host(t, out);
}

void trunc_normal_(const Tensor& t, double mean, double std, double a, double b) {
  NABLA_CHECK(std > 0 && a < b, ValueError, "init::trunc_normal_: need std > 0 and a < b, got std ",
              std, ", [", a, ", ", b, "]");
  auto cdf = [](double x) { return 0.5 * (1 + std::erf(x / std::numbers::sqrt2)); };
  const double low = cdf((a - mean) / std), high = cdf((b - mean) / std);
  std::vector<double> u = rand({t.numel()}, {.dtype = kFloat64}).to_vector<double>();
  for (double& v : u) {
    double p = low + (high - low) * v;
    double x = mean + std * std::numbers::sqrt2 * erfinv(2 * p - 1);
    v = std::clamp(x, a, b);
  }
  fill_from_host(t, u);
}

}  // namespace nabla::nn::init
