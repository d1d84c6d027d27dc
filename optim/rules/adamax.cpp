// Adamax (Kingma & Ba, 2015, section 7): Adam with the infinity norm in place of the second
// moment, as PyTorch's torch.optim.Adamax.
#include "optim/rule.h"

namespace nabla::optim {
namespace {

struct Adamax {
  struct Options {
    double lr = 2e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0;

    static auto fields() {
      return std::tuple{
          Field{"lr", &Options::lr, "learning rate"},
          Field{"beta1", &Options::beta1, "decay rate of the gradient's running mean"},
          Field{"beta2", &Options::beta2, "decay rate of the running maximum of |g|"},
          Field{"eps", &Options::eps, "added to |g|, for stability"},
          Field{"weight_decay", &Options::weight_decay, "L2 penalty added to the gradient"}};
    }
    void validate() const {
      check_at_least("adamax", "lr", lr, 0);
      check_unit_interval("adamax", "beta1", beta1);
      check_unit_interval("adamax", "beta2", beta2);
      check_at_least("adamax", "eps", eps, 0);
      check_at_least("adamax", "weight_decay", weight_decay, 0);
    }
  };

  static void update(const Tensor& param, const Tensor& grad, State& state, const Options& o,
                     int64_t step) {
    Tensor g = o.weight_decay != 0 ? grad + o.weight_decay * param : grad;
    Tensor m = state.zeros("exp_avg", param);
    Tensor u = state.zeros("exp_inf", param);  // u = max(beta2 u, |g| + eps)
    mul_(m, o.beta1);
    add_(m, g, 1 - o.beta1);
    mul_(u, o.beta2);
    core::binary_(BinaryOp::maximum, u, abs(g) + o.eps);
    addcdiv_(param, m, u, -o.lr / (1 - std::pow(o.beta1, static_cast<double>(step))));
  }
};

}  // namespace

void register_adamax(OptimizerRegistry& registry) {
  register_rule<Adamax>(registry, "adamax", "Adamax: Adam with the infinity norm",
                        Family::adaptive);
}

}  // namespace nabla::optim
