// MinMaxObserver: the range widens to each batch's extremes.
#include "quant/minmax_observer.h"

#include "core/ops.h"

namespace nabla::quant {

MinMaxObserver::MinMaxObserver(QScheme scheme, int64_t channels)
    : Observer("MinMaxObserver", scheme, channels) {}

void MinMaxObserver::observe(const Tensor& input) {
  Tensor x = checked_input(input, "MinMaxObserver::observe");
  auto [lo, hi] = batch_min_max(x);
  if (!has_observed()) {
    set_range(lo, hi);
    return;
  }
  set_range(core::binary(BinaryOp::minimum, min_val_, lo),
            core::binary(BinaryOp::maximum, max_val_, hi));
}

}  // namespace nabla::quant
