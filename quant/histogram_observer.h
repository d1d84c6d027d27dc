// HistogramObserver: a histogram of everything seen, and the clipping range that minimizes the
// estimated L2 quantization error over it (the idea of PyTorch's HistogramObserver). Clipping a
// few far outliers can shrink the step enough that the bulk of the values gains more than the
// outliers lose. Per-tensor only.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "quant/observer.h"

namespace nabla::quant {

class HistogramObserver : public Observer {
 public:
  explicit HistogramObserver(QScheme scheme = {}, int64_t bins = 2048);

  // Adds x to the histogram. When x reaches outside the histogram's span, the span widens to
  // cover it and the old counts are spread over the new bins they overlap (each bin's values
  // taken as uniform across it).
  void observe(const Tensor& x) override;
  // The candidate range with the least estimated error (see Note [histogram range search]).
  std::pair<Tensor, Tensor> range() const override;
  void reset() override;

  // The mean squared error of quantizing the histogram's values with the qparams that
  // choose_qparams gives for [min, max]: clipping and rounding, each bin's values uniform
  // across it, integrated exactly.
  double expected_error(float min, float max) const;

  // The histogram's size, which a loaded state may change.
  int64_t bins() const { return histogram_.numel(); }
  // A checkpoint's histogram may have any number of bins.
  bool resizable(const std::string& name) const override;
  // float64 [bins] counts over [min_val, max_val] (the span seen, not the chosen range).
  const Tensor& histogram() const { return histogram_; }

 protected:
  std::string extra_repr() const override;

 private:
  Tensor histogram_;
};

}  // namespace nabla::quant
