// MovingAverageMinMaxObserver: the range moves toward each batch's extremes.
#include "quant/moving_average_observer.h"

#include <sstream>

#include "core/ops.h"

namespace nabla::quant {

MovingAverageMinMaxObserver::MovingAverageMinMaxObserver(QScheme scheme, double averaging_constant,
                                                         int64_t channels)
    : Observer("MovingAverageMinMaxObserver", scheme, channels),
      averaging_constant_(averaging_constant) {
  NABLA_CHECK(averaging_constant > 0 && averaging_constant <= 1, ValueError,
              "MovingAverageMinMaxObserver: averaging_constant must be in (0, 1], got ",
              averaging_constant);
}

void MovingAverageMinMaxObserver::observe(const Tensor& input) {
  Tensor x = checked_input(input, "MovingAverageMinMaxObserver::observe");
  auto [lo, hi] = batch_min_max(x);
  if (!has_observed()) {
    set_range(lo, hi);
    return;
  }
  auto toward = [&](const Tensor& old, const Tensor& batch) {
    Tensor step =
        core::binary(BinaryOp::mul, core::binary(BinaryOp::sub, batch, old), averaging_constant_);
    return core::binary(BinaryOp::add, old, step);
  };
  set_range(toward(min_val_, lo), toward(max_val_, hi));
}

std::string MovingAverageMinMaxObserver::extra_repr() const {
  std::ostringstream os;
  os << Observer::extra_repr() << ", averaging_constant=" << averaging_constant_;
  return os.str();
}

}  // namespace nabla::quant
