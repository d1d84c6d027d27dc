// PercentileObserver: per-batch percentiles by selection, averaged over batches.
#include "quant/percentile_observer.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include "core/creation.h"
#include "core/ops.h"

namespace nabla::quant {

const char* name(PercentileMode mode) {
  return mode == PercentileMode::magnitude ? "magnitude" : "tails";
}

namespace {
// The q-quantile (q in [0, 1]) of v, interpolating between the order statistics around
// q (n - 1); reorders v.
double quantile(std::vector<float>& v, double q) {
  const double position = q * (v.size() - 1);
  const size_t below = static_cast<size_t>(std::floor(position));
  std::nth_element(v.begin(), v.begin() + below, v.end());
  const double low = v[below];
  if (below + 1 >= v.size()) return low;
  // The next order statistic is the least of the elements after `below`.
  const double high = *std::min_element(v.begin() + below + 1, v.end());
  return low + (position - below) * (high - low);
}
}  // namespace

PercentileObserver::PercentileObserver(QScheme scheme, double percentile, PercentileMode mode,
                                       int64_t channels)
    : Observer("PercentileObserver", scheme, channels), percentile_(percentile), mode_(mode) {
  NABLA_CHECK(percentile > 50 && percentile <= 100, ValueError,
              "PercentileObserver: percentile must be in (50, 100], got ", percentile);
  batches_ = register_buffer("batches", zeros({1}, {.dtype = kInt64}));
}

int64_t PercentileObserver::batches() const { return batches_.item<int64_t>(); }

void PercentileObserver::observe(const Tensor& input) {
  Tensor x = checked_input(input, "PercentileObserver::observe");
  Tensor rows = rows_by_channel(x);  // [C, n]
  const int64_t channels = rows.size(0), n = rows.size(1);
  std::vector<float> all = rows.to_vector<float>();
  std::vector<float> lo(channels), hi(channels);
  const double q = percentile_ / 100;
  for (int64_t c = 0; c < channels; ++c) {
    std::vector<float> v(all.begin() + c * n, all.begin() + (c + 1) * n);
    auto [min_it, max_it] = std::minmax_element(v.begin(), v.end());
    const float min = *min_it, max = *max_it;
    if (mode_ == PercentileMode::tails) {
      hi[c] = static_cast<float>(quantile(v, q));
      lo[c] = static_cast<float>(quantile(v, 1 - q));
    } else {
      for (float& e : v) e = std::abs(e);
      const float t = static_cast<float>(quantile(v, q));
      lo[c] = std::max(min, -t);
      hi[c] = std::min(max, t);
    }
  }
  Tensor batch_lo = from_vector<float>(lo), batch_hi = from_vector<float>(hi);
  // The running mean of the batches' bounds: mean += (batch - mean) / count.
  const int64_t count = batches() + 1;
  if (!has_observed()) {
    set_range(batch_lo, batch_hi);
  } else {
    auto toward = [&](const Tensor& mean, const Tensor& batch) {
      Tensor step = core::binary(BinaryOp::div, core::binary(BinaryOp::sub, batch, mean),
                                 static_cast<double>(count));
      return core::binary(BinaryOp::add, mean, step);
    };
    set_range(toward(min_val_, batch_lo), toward(max_val_, batch_hi));
  }
  core::fill_(batches_, static_cast<double>(count));
}

void PercentileObserver::reset() {
  Observer::reset();
  core::fill_(batches_, 0);
}

std::string PercentileObserver::extra_repr() const {
  std::ostringstream os;
  os << Observer::extra_repr() << ", percentile=" << percentile_ << ", mode=" << name(mode_);
  return os.str();
}

}  // namespace nabla::quant
