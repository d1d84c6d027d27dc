// AdaDelta (Zeiler, 2012): steps scaled by the ratio of running RMS of updates and of gradients,
// as PyTorch's torch.optim.Adadelta.
#include "optim/rule.h"

namespace nabla::optim {
namespace {

struct Adadelta {
  struct Options {
    double lr = 1.0;
    double rho = 0.9;
    double eps = 1e-6;
    double weight_decay = 0;

    static auto fields() {
      return std::tuple{
          Field{"lr", &Options::lr, "scales the computed step"},
          Field{"rho", &Options::rho, "decay rate of the running means"},
          Field{"eps", &Options::eps, "added inside both square roots, for stability"},
          Field{"weight_decay", &Options::weight_decay, "L2 penalty added to the gradient"}};
    }
    void validate() const {
      check_at_least("adadelta", "lr", lr, 0);
      NABLA_CHECK(rho >= 0 && rho <= 1, ValueError, "adadelta: rho must be in [0, 1], got ", rho);
      check_at_least("adadelta", "eps", eps, 0);
      check_at_least("adadelta", "weight_decay", weight_decay, 0);
    }
  };

  static void update(const Tensor& param, const Tensor& grad, State& state, const Options& o,
                     int64_t /*step*/) {
    Tensor g = o.weight_decay != 0 ? grad + o.weight_decay * param : grad;
    Tensor square_avg = state.zeros("square_avg", param);  // running mean of g^2
    Tensor acc_delta = state.zeros("acc_delta", param);    // running mean of delta^2
    mul_(square_avg, o.rho);
    addcmul_(square_avg, g, g, 1 - o.rho);
    Tensor delta = sqrt(acc_delta + o.eps) / sqrt(square_avg + o.eps) * g;
    mul_(acc_delta, o.rho);
    addcmul_(acc_delta, delta, delta, 1 - o.rho);
    add_(param, delta, -o.lr);
  }
};

}  // namespace

void register_adadelta(OptimizerRegistry& registry) {
  register_rule<Adadelta>(registry, "adadelta", "AdaDelta: unit-consistent adaptive steps",
                          Family::adaptive);
}

}  // namespace nabla::optim
