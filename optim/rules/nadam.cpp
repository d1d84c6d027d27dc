// NAdam (Dozat, 2016): Adam with Nesterov momentum and a warming momentum schedule, as PyTorch's
// torch.optim.NAdam (with the product of momenta as in PyTorch 2.0, pytorch/pytorch#92699).
#include "optim/rule.h"

namespace nabla::optim {
namespace {

struct Nadam {
  struct Options {
    double lr = 2e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0;
    double momentum_decay = 4e-3;

    static auto fields() {
      return std::tuple{
          Field{"lr", &Options::lr, "learning rate"},
          Field{"beta1", &Options::beta1, "decay rate of the gradient's running mean"},
          Field{"beta2", &Options::beta2, "decay rate of the squared gradient's running mean"},
          Field{"eps", &Options::eps, "added to the denominator, for stability"},
          Field{"weight_decay", &Options::weight_decay, "L2 penalty added to the gradient"},
          Field{"momentum_decay", &Options::momentum_decay, "how fast the momentum warms up"}};
    }
    void validate() const {
      check_at_least("nadam", "lr", lr, 0);
      check_unit_interval("nadam", "beta1", beta1);
      check_unit_interval("nadam", "beta2", beta2);
      check_at_least("nadam", "eps", eps, 0);
      check_at_least("nadam", "weight_decay", weight_decay, 0);
      check_at_least("nadam", "momentum_decay", momentum_decay, 0);
    }
  };

  static void update(const Tensor& param, const Tensor& grad, State& state, const Options& o,
                     int64_t step) {
    Tensor g = o.weight_decay != 0 ? grad + o.weight_decay * param : grad;
    auto t = static_cast<double>(step);
    // mu_t = beta1 (1 - 0.96^(t psi) / 2); the update needs prod mu_1..t and prod mu_1..t+1.
    double mu = o.beta1 * (1 - 0.5 * std::pow(0.96, t * o.momentum_decay));
    double mu_next = o.beta1 * (1 - 0.5 * std::pow(0.96, (t + 1) * o.momentum_decay));
    double& mu_product = state.scalar("mu_product", 1.0);
    mu_product *= mu;
    double mu_product_next = mu_product * mu_next;

    Tensor m = state.zeros("exp_avg", param);
    Tensor v = state.zeros("exp_avg_sq", param);
    mul_(m, o.beta1);
    add_(m, g, 1 - o.beta1);
    mul_(v, o.beta2);
    addcmul_(v, g, g, 1 - o.beta2);
    Tensor denom = sqrt(v / (1 - std::pow(o.beta2, t))) + o.eps;
    addcdiv_(param, g, denom, -o.lr * (1 - mu) / (1 - mu_product));
    addcdiv_(param, m, denom, -o.lr * mu_next / (1 - mu_product_next));
  }
};

}  // namespace

void register_nadam(OptimizerRegistry& registry) {
  register_rule<Nadam>(registry, "nadam", "NAdam: Adam with Nesterov momentum", Family::adaptive);
}

}  // namespace nabla::optim
