// RMSprop (Tieleman & Hinton, 2012), optionally centered (Graves, 2013) and with momentum, as
// PyTorch's torch.optim.RMSprop.
#include "optim/rule.h"

namespace nabla::optim {
namespace {

struct Rmsprop {
  struct Options {
    double lr = 1e-2;
    double alpha = 0.99;
    double eps = 1e-8;
    double weight_decay = 0;
    double momentum = 0;
    bool centered = false;

    static auto fields() {
      return std::tuple{
          Field{"lr", &Options::lr, "learning rate"},
          Field{"alpha", &Options::alpha, "decay rate of the squared gradient's running mean"},
          Field{"eps", &Options::eps, "added to the denominator, for stability"},
          Field{"weight_decay", &Options::weight_decay, "L2 penalty added to the gradient"},
          Field{"momentum", &Options::momentum, "momentum factor (0: none)"},
          Field{"centered", &Options::centered, "divide by the estimated variance instead"}};
    }
    void validate() const {
      check_at_least("rmsprop", "lr", lr, 0);
      check_unit_interval("rmsprop", "alpha", alpha);
      check_at_least("rmsprop", "eps", eps, 0);
      check_at_least("rmsprop", "weight_decay", weight_decay, 0);
      check_at_least("rmsprop", "momentum", momentum, 0);
    }
  };

  static void update(const Tensor& param, const Tensor& grad, State& state, const Options& o,
                     int64_t /*step*/) {
    Tensor g = o.weight_decay != 0 ? grad + o.weight_decay * param : grad;
    Tensor square_avg = state.zeros("square_avg", param);
    mul_(square_avg, o.alpha);
    addcmul_(square_avg, g, g, 1 - o.alpha);
    Tensor avg;
    if (o.centered) {  // E[g^2] - E[g]^2 estimates the variance
      Tensor grad_avg = state.zeros("grad_avg", param);
      mul_(grad_avg, o.alpha);
      add_(grad_avg, g, 1 - o.alpha);
      avg = sqrt(square_avg - grad_avg * grad_avg) + o.eps;
    } else {
      avg = sqrt(square_avg) + o.eps;
    }
    if (o.momentum > 0) {
      Tensor buf = state.zeros("momentum_buffer", param);
      mul_(buf, o.momentum);
      addcdiv_(buf, g, avg);
      add_(param, buf, -o.lr);
    } else {
      addcdiv_(param, g, avg, -o.lr);
    }
  }
};

}  // namespace

void register_rmsprop(OptimizerRegistry& registry) {
  register_rule<Rmsprop>(registry, "rmsprop", "RMSprop, optionally centered and with momentum",
                         Family::adaptive);
}

}  // namespace nabla::optim
