// RAdam (Liu et al., 2020): Adam whose adaptive step is switched on and rectified once the
// variance of the second moment is tractable, as PyTorch's torch.optim.RAdam.
#include "optim/rule.h"

namespace nabla::optim {
namespace {

struct Radam {
  struct Options {
    double lr = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0;

    static auto fields() {
      return std::tuple{
          Field{"lr", &Options::lr, "learning rate"},
          Field{"beta1", &Options::beta1, "decay rate of the gradient's running mean"},
          Field{"beta2", &Options::beta2, "decay rate of the squared gradient's running mean"},
          Field{"eps", &Options::eps, "added to the denominator, for stability"},
          Field{"weight_decay", &Options::weight_decay, "L2 penalty added to the gradient"}};
    }
    void validate() const {
      check_at_least("radam", "lr", lr, 0);
      check_unit_interval("radam", "beta1", beta1);
      check_unit_interval("radam", "beta2", beta2);
      check_at_least("radam", "eps", eps, 0);
      check_at_least("radam", "weight_decay", weight_decay, 0);
    }
  };

  static void update(const Tensor& param, const Tensor& grad, State& state, const Options& o,
                     int64_t step) {
    Tensor g = o.weight_decay != 0 ? grad + o.weight_decay * param : grad;
    Tensor m = state.zeros("exp_avg", param);
    Tensor v = state.zeros("exp_avg_sq", param);
    mul_(m, o.beta1);
    add_(m, g, 1 - o.beta1);
    mul_(v, o.beta2);
    addcmul_(v, g, g, 1 - o.beta2);

    auto t = static_cast<double>(step);
    double bias_correction1 = 1 - std::pow(o.beta1, t);
    double bias_correction2 = 1 - std::pow(o.beta2, t);
    // rho: the length of the approximated simple moving average; the variance of the adaptive
    // step is finite only for rho > 4, and RAdam waits until rho > 5.
    double rho_inf = 2 / (1 - o.beta2) - 1;
    double rho = rho_inf - 2 * t * std::pow(o.beta2, t) / bias_correction2;
    if (rho > 5) {
      double rect =
          std::sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho));
      Tensor adaptive = std::sqrt(bias_correction2) / (sqrt(v) + o.eps);
      add_(param, m * adaptive, -o.lr * rect / bias_correction1);
    } else {
      add_(param, m, -o.lr / bias_correction1);
    }
  }
};

}  // namespace

void register_radam(OptimizerRegistry& registry) {
  register_rule<Radam>(registry, "radam", "RAdam: Adam with a rectified warm-up", Family::adaptive);
}

}  // namespace nabla::optim
