// An exponential moving average of weights (Polyak averaging), to evaluate with averaged weights.
#pragma once

#include <cstdint>
#include <tuple>

#include "optim/options.h"
#include "optim/state.h"

namespace nabla::optim {

struct StateDict;

class ExponentialMovingAverage {
 public:
  struct Options {
    double decay = 0.999;
    bool warmup = false;
    static auto fields() {
      return std::tuple{
          Field{"decay", &Options::decay, "average = decay * average + (1 - decay) * weight"},
          Field{"warmup", &Options::warmup,
                "use min(decay, (1 + n) / (10 + n)) after n updates, so early weights fade fast"}};
    }
    void validate() const;
  };

  // Starts the averages at the current values of `params` (parameters, and buffers if wanted:
  // tensors that are not floating point are copied rather than averaged).
  explicit ExponentialMovingAverage(NamedTensors params);
  ExponentialMovingAverage(NamedTensors params, Options options);
  // Folds the current weights into the averages.
  void update();
  // The decay the next update will use.
  double decay() const;
  int64_t updates() const { return updates_; }
  const NamedTensors& averages() const { return averages_; }

  // Puts the averages into the parameters, keeping the weights aside; restore() puts them back.
  void apply();
  void restore();

  // The averages under "ema.<name>", the update count in JSON.
  StateDict state_dict() const;
  void load_state_dict(const StateDict& dict);

 private:
  Options options_;
  NamedTensors params_;
  NamedTensors averages_;
  std::vector<Tensor> kept_;  // the weights apply() put aside
  int64_t updates_ = 0;
};

}  // namespace nabla::optim
