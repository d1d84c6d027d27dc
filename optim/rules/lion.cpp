// Lion (Chen et al., 2023): the sign of an interpolation between momentum and gradient, so every
// coordinate moves by exactly lr; decoupled weight decay.
#include "optim/rule.h"

namespace nabla::optim {
namespace {

struct Lion {
  struct Options {
    double lr = 1e-4;
    double beta1 = 0.9;
    double beta2 = 0.99;
    double weight_decay = 0;

    static auto fields() {
      return std::tuple{
          Field{"lr", &Options::lr, "learning rate: each coordinate's step size"},
          Field{"beta1", &Options::beta1, "momentum weight in the update's direction"},
          Field{"beta2", &Options::beta2, "decay rate of the momentum"},
          Field{"weight_decay", &Options::weight_decay, "decoupled: w -= lr * weight_decay * w"}};
    }
    void validate() const {
      check_at_least("lion", "lr", lr, 0);
      check_unit_interval("lion", "beta1", beta1);
      check_unit_interval("lion", "beta2", beta2);
      check_at_least("lion", "weight_decay", weight_decay, 0);
    }
  };

  static void update(const Tensor& param, const Tensor& grad, State& state, const Options& o,
                     int64_t /*step*/) {
    Tensor m = state.zeros("exp_avg", param);
    if (o.weight_decay != 0) mul_(param, 1 - o.lr * o.weight_decay);
    add_(param, sign(o.beta1 * m + (1 - o.beta1) * grad), -o.lr);
    mul_(m, o.beta2);  // the momentum decays by beta2, not beta1
    add_(m, grad, 1 - o.beta2);
  }
};

}  // namespace

void register_lion(OptimizerRegistry& registry) {
  register_rule<Lion>(registry, "lion", "Lion: sign of interpolated momentum", Family::sign);
}

}  // namespace nabla::optim
