// HistogramObserver: histogram accumulation with widening, the error estimate, and the search
// over candidate clipping ranges.
#include "quant/histogram_observer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <vector>

#include "core/creation.h"
#include "core/ops.h"

namespace nabla::quant {

// Note [histogram range search]
// A candidate range [lo, hi] is judged by the error the qparams choose_qparams gives it would
// cause on the histogram's values. The candidates, from the whole span inward:
//   affine: both ends move in one bin at a time, always on the side whose next bin holds fewer
//   values (as PyTorch's greedy search), so that sparse outlier bins go first;
//   symmetric: [-t, t] (cut to the span) for t = k / bins * max(|min|, |max|), k = 1..bins,
//   since only the larger magnitude sets a symmetric scale.
// Every candidate on the path is scored, not only until the error first rises, so that a
// plateau of empty bins cannot stop the search early. The whole span is a candidate, so the
// result never estimates worse than min-max.

namespace {
using Counts = std::vector<double>;

// The integral of (x - g)^2 over [u, v].
double squared_integral(double u, double v, double g) {
  const double a = u - g, b = v - g;
  return (b * b * b - a * a * a) / 3;
}

// The integral of the rounding error (x - s round(x / s))^2 over [u, v].
double rounding_integral(double u, double v, double s) {
  double mu = std::nearbyint(u / s), mv = std::nearbyint(v / s);
  if (mu == mv) return squared_integral(u, v, mu * s);
  // Partial cells at both ends, whole cells (s^3 / 12 each) between them.
  return squared_integral(u, (mu + 0.5) * s, mu * s) + squared_integral((mv - 0.5) * s, v, mv * s) +
         (mv - mu - 1) * s * s * s / 12;
}

// Spreads counts over [old_lo, old_hi] onto bins over the wider [lo, hi] by overlap.
Counts rebin(const Counts& old, double old_lo, double old_hi, double lo, double hi) {
  const int64_t bins = static_cast<int64_t>(old.size());
  Counts out(bins, 0.0);
  const double width = (hi - lo) / bins, old_width = (old_hi - old_lo) / bins;
  auto bin_of = [&](double x) {
    return std::clamp<int64_t>(static_cast<int64_t>((x - lo) / width), 0, bins - 1);
  };
  for (int64_t i = 0; i < bins; ++i) {
    if (old[i] == 0) continue;
    if (old_width == 0) {  // a single point seen so far
      out[bin_of(old_lo)] += old[i];
      continue;
    }
    double a = old_lo + i * old_width, b = a + old_width;
    int64_t j0 = bin_of(a), j1 = bin_of(b);
    // Shares by overlap, normalized so that rounding of the edges loses no count.
    std::vector<double> overlap;
    double total = 0;
    for (int64_t j = j0; j <= j1; ++j) {
      double e0 = lo + j * width, e1 = e0 + width;
      double o = std::max(0.0, std::min(b, e1) - std::max(a, e0));
      overlap.push_back(o);
      total += o;
    }
    if (total == 0) {
      out[j0] += old[i];
      continue;
    }
    for (int64_t j = j0; j <= j1; ++j) out[j] += old[i] * overlap[j - j0] / total;
  }
  return out;
}

// The mean squared quantization error of the histogram (bins of `width` from `lo`) under the
// qparams of [min, max]: see HistogramObserver::expected_error.
double histogram_error(const Counts& counts, double lo, double width, float min, float max,
                       const QScheme& scheme) {
  ScalarQParams p = choose_qparams(min, max, scheme);
  const double s = p.scale;
  const double clip_lo = (scheme.qmin() - p.zero_point) * s;
  const double clip_hi = (scheme.qmax() - p.zero_point) * s;
  double error = 0, total = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    const double n = counts[i];
    if (n == 0) continue;
    total += n;
    const double a = lo + i * width, b = a + width;
    if (width == 0) {  // every value equals lo
      double q = std::clamp(std::nearbyint(a / s) * s, clip_lo, clip_hi);
      error += n * (a - q) * (a - q);
      continue;
    }
    double e = 0;
    if (a < clip_lo) e += squared_integral(a, std::min(b, clip_lo), clip_lo);
    if (b > clip_hi) e += squared_integral(std::max(a, clip_hi), b, clip_hi);
    const double u = std::max(a, clip_lo), v = std::min(b, clip_hi);
    if (u < v) e += rounding_integral(u, v, s);
    error += n / width * e;
  }
  return total > 0 ? error / total : 0;
}
}  // namespace

HistogramObserver::HistogramObserver(QScheme scheme, int64_t bins)
    : Observer("HistogramObserver", scheme) {
  NABLA_CHECK(!scheme.per_channel(), ValueError, "HistogramObserver: scheme ", scheme.to_string(),
              " is per-channel; the histogram observer is per-tensor only");
  NABLA_CHECK(bins >= 2, ValueError, "HistogramObserver: bins must be >= 2, got ", bins);
  histogram_ = register_buffer("histogram", zeros({bins}, {.dtype = kFloat64}));
}

void HistogramObserver::observe(const Tensor& input) {
  Tensor x = checked_input(input, "HistogramObserver::observe");
  std::vector<float> xs = x.to_vector<float>();
  auto [batch_lo, batch_hi] = std::minmax_element(xs.begin(), xs.end());
  NABLA_CHECK(std::isfinite(*batch_lo) && std::isfinite(*batch_hi), ValueError,
              "HistogramObserver::observe: the tensor holds non-finite values (min ", *batch_lo,
              ", max ", *batch_hi, ")");
  const int64_t bins = this->bins();
  Counts counts(bins, 0.0);
  double lo = *batch_lo, hi = *batch_hi;
  if (has_observed()) {
    double old_lo = min_val_.item<double>(), old_hi = max_val_.item<double>();
    counts = histogram_.to_vector<double>();
    double new_lo = std::min(lo, old_lo), new_hi = std::max(hi, old_hi);
    if (new_lo != old_lo || new_hi != old_hi)
      counts = rebin(counts, old_lo, old_hi, new_lo, new_hi);
    lo = new_lo;
    hi = new_hi;
  }
  const double width = (hi - lo) / bins;
  for (float v : xs) {
    int64_t bin = width > 0 ? static_cast<int64_t>((v - lo) / width) : 0;
    counts[std::clamp<int64_t>(bin, 0, bins - 1)] += 1;
  }
  core::copy_(histogram_, from_vector<double>(counts));
  set_range(full({1}, lo), full({1}, hi));
}

bool HistogramObserver::resizable(const std::string& name) const { return name == "histogram"; }

void HistogramObserver::reset() {
  Observer::reset();
  core::fill_(histogram_, 0);
}

double HistogramObserver::expected_error(float min, float max) const {
  NABLA_CHECK(has_observed(), ValueError,
              "HistogramObserver::expected_error: no data observed yet");
  const double lo = min_val_.item<double>(), hi = max_val_.item<double>();
  return histogram_error(histogram_.to_vector<double>(), lo, (hi - lo) / bins(), min, max, scheme_);
}

std::pair<Tensor, Tensor> HistogramObserver::range() const {
  if (!has_observed()) return Observer::range();
  const double lo = min_val_.item<double>(), hi = max_val_.item<double>();
  auto as_range = [](double a, double b) {
    return std::pair<Tensor, Tensor>{full({1}, a), full({1}, b)};
  };
  if (hi == lo) return as_range(lo, hi);
  const int64_t bins = this->bins();
  const double width = (hi - lo) / bins;
  const Counts counts = histogram_.to_vector<double>();
  double best = std::numeric_limits<double>::infinity(), best_lo = lo, best_hi = hi;
  auto score = [&](double a, double b) {
    double e =
        histogram_error(counts, lo, width, static_cast<float>(a), static_cast<float>(b), scheme_);
    if (e < best) {
      best = e;
      best_lo = a;
      best_hi = b;
    }
  };
  if (scheme_.symmetric()) {
    const double bound = std::max(std::abs(lo), std::abs(hi));
    for (int64_t k = bins; k >= 1; --k) {
      double t = bound * k / bins;
      score(std::max(lo, -t), std::min(hi, t));
    }
  } else {
    int64_t first = 0, last = bins;  // the candidate keeps bins [first, last)
    score(lo, hi);
    while (last - first > 1) {
      if (counts[first] <= counts[last - 1])
        ++first;
      else
        --last;
      score(lo + first * width, lo + last * width);
    }
  }
  return as_range(best_lo, best_hi);
}

std::string HistogramObserver::extra_repr() const {
  std::ostringstream os;
  os << Observer::extra_repr() << ", bins=" << bins();
  return os.str();
}

}  // namespace nabla::quant
