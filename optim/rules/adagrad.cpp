// AdaGrad (Duchi et al., 2011): steps scaled by the root of the summed squared gradients, as
// PyTorch's torch.optim.Adagrad.
#include "optim/rule.h"

namespace nabla::optim {
namespace {

struct Adagrad {
  struct Options {
    double lr = 1e-2;
    double lr_decay = 0;
    double weight_decay = 0;
    double initial_accumulator_value = 0;
    double eps = 1e-10;

    static auto fields() {
      return std::tuple{
          Field{"lr", &Options::lr, "learning rate"},
          Field{"lr_decay", &Options::lr_decay, "lr / (1 + (step - 1) * lr_decay)"},
          Field{"weight_decay", &Options::weight_decay, "L2 penalty added to the gradient"},
          Field{"initial_accumulator_value", &Options::initial_accumulator_value,
                "starting value of the squared-gradient sum"},
          Field{"eps", &Options::eps, "added to the denominator, for stability"}};
    }
    void validate() const {
      check_at_least("adagrad", "lr", lr, 0);
      check_at_least("adagrad", "lr_decay", lr_decay, 0);
      check_at_least("adagrad", "weight_decay", weight_decay, 0);
      check_at_least("adagrad", "initial_accumulator_value", initial_accumulator_value, 0);
      check_at_least("adagrad", "eps", eps, 0);
    }
  };

  static void update(const Tensor& param, const Tensor& grad, State& state, const Options& o,
                     int64_t step) {
    Tensor g = o.weight_decay != 0 ? grad + o.weight_decay * param : grad;
    Tensor sum = state.find("sum");
    if (!sum.defined()) {
      sum = full_like(param, o.initial_accumulator_value);
      state.set("sum", sum);
    }
    addcmul_(sum, g, g);  // sum += g^2
    double lr = o.lr / (1 + static_cast<double>(step - 1) * o.lr_decay);
    addcdiv_(param, g, sqrt(sum) + o.eps, -lr);
  }
};

}  // namespace

void register_adagrad(OptimizerRegistry& registry) {
  register_rule<Adagrad>(registry, "adagrad", "AdaGrad: steps scaled by accumulated squares",
                         Family::adaptive);
}

}  // namespace nabla::optim
