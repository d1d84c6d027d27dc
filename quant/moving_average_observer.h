// MovingAverageMinMaxObserver: an exponential moving average of each batch's extremes (PyTorch's
// observer of the same name), per tensor or per channel.
#pragma once

#include <string>

#include "quant/observer.h"

namespace nabla::quant {

// The first batch sets the range; each later one moves it by averaging_constant c:
//   min = min + c (batch min - min), max = max + c (batch max - max).
// PyTorch's default c = 0.01 suits QAT, where activations drift as the weights train.
class MovingAverageMinMaxObserver : public Observer {
 public:
  explicit MovingAverageMinMaxObserver(QScheme scheme = {}, double averaging_constant = 0.01,
                                       int64_t channels = 0);
  void observe(const Tensor& x) override;
  double averaging_constant() const { return averaging_constant_; }

 protected:
  std::string extra_repr() const override;

 private:
  double averaging_constant_;
};

}  // namespace nabla::quant
