// MinMaxObserver: the running extremes of everything seen (PyTorch's MinMaxObserver), per tensor
// or per channel.
#pragma once

#include "quant/observer.h"

namespace nabla::quant {

// min = min(min, batch min), max = max(max, batch max).
class MinMaxObserver : public Observer {
 public:
  explicit MinMaxObserver(QScheme scheme = {}, int64_t channels = 0);
  void observe(const Tensor& x) override;
};

}  // namespace nabla::quant
