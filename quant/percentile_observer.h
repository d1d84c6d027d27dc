// PercentileObserver: a range that clips to a percentile of the values, so that rare outliers
// do not stretch the scale; per tensor or per channel.
#pragma once

#include <cstdint>
#include <string>

#include "quant/observer.h"

namespace nabla::quant {

enum class PercentileMode : uint8_t {
  // t = the percentile of |x|; the range is [max(min x, -t), min(max x, t)].
  magnitude,
  // Each tail on its own: [the (100 - p)th percentile, the pth percentile] of x.
  tails,
};

const char* name(PercentileMode mode);

// Each batch's bounds are exact percentiles (linear interpolation between order statistics,
// NumPy's default); the range is their mean over the batches seen, kept with the batch count so
// that it resumes from a checkpoint.
class PercentileObserver : public Observer {
 public:
  explicit PercentileObserver(QScheme scheme = {}, double percentile = 99.99,
                              PercentileMode mode = PercentileMode::magnitude,
                              int64_t channels = 0);
  void observe(const Tensor& x) override;
  void reset() override;

  double percentile() const { return percentile_; }
  PercentileMode mode() const { return mode_; }
  int64_t batches() const;

 protected:
  std::string extra_repr() const override;

 private:
  double percentile_;
  PercentileMode mode_;
  Tensor batches_;  // int64 [1]
};

}  // namespace nabla::quant
