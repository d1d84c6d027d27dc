// Adam (Kingma & Ba, 2015), with AMSGrad (Reddi et al., 2018) and decoupled weight decay (AdamW,
// Loshchilov & Hutter, 2019) as flags, as PyTorch's torch.optim.Adam and AdamW.
#include "optim/rule.h"

namespace nabla::optim {
namespace {

struct Adam {
  struct Options {
    double lr = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0;
    bool decoupled_weight_decay = false;
    bool amsgrad = false;

    static auto fields() {
      return std::tuple{
          Field{"lr", &Options::lr, "learning rate"},
          Field{"beta1", &Options::beta1, "decay rate of the gradient's running mean"},
          Field{"beta2", &Options::beta2, "decay rate of the squared gradient's running mean"},
          Field{"eps", &Options::eps, "added to the denominator, for stability"},
          Field{"weight_decay", &Options::weight_decay, "weight decay (L2 unless decoupled)"},
          Field{"decoupled_weight_decay", &Options::decoupled_weight_decay,
                "decay the weights directly, p -= lr * weight_decay * p (AdamW)"},
          Field{"amsgrad", &Options::amsgrad,
                "divide by the running maximum of the second moment"}};
    }
    void validate() const {
      check_at_least("adam", "lr", lr, 0);
      check_unit_interval("adam", "beta1", beta1);
      check_unit_interval("adam", "beta2", beta2);
      check_at_least("adam", "eps", eps, 0);
      check_at_least("adam", "weight_decay", weight_decay, 0);
    }
  };

  static void update(const Tensor& param, const Tensor& grad, State& state, const Options& o,
                     int64_t step) {
    Tensor g = grad;
    if (o.weight_decay != 0 && o.decoupled_weight_decay) mul_(param, 1 - o.lr * o.weight_decay);
    if (o.weight_decay != 0 && !o.decoupled_weight_decay) g = grad + o.weight_decay * param;

    Tensor m = state.zeros("exp_avg", param);     // m = beta1 m + (1 - beta1) g
    Tensor v = state.zeros("exp_avg_sq", param);  // v = beta2 v + (1 - beta2) g^2
    mul_(m, o.beta1);
    add_(m, g, 1 - o.beta1);
    mul_(v, o.beta2);
    addcmul_(v, g, g, 1 - o.beta2);
    if (o.amsgrad) {
      Tensor v_max = state.zeros("max_exp_avg_sq", param);
      core::binary_(BinaryOp::maximum, v_max, v);
      v = v_max;
    }
    // p -= lr * m_hat / (sqrt(v_hat) + eps), with m_hat = m / (1 - beta1^t), v_hat likewise.
    double bias_correction1 = 1 - std::pow(o.beta1, static_cast<double>(step));
    double bias_correction2 = 1 - std::pow(o.beta2, static_cast<double>(step));
    Tensor denom = sqrt(v) / std::sqrt(bias_correction2) + o.eps;
    addcdiv_(param, m, denom, -o.lr / bias_correction1);
  }
};

}  // namespace

void register_adam(OptimizerRegistry& registry) {
  register_rule<Adam>(registry, "adam", "Adam; amsgrad=true gives AMSGrad", Family::adaptive);
  register_rule<Adam>(registry, "adamw", "Adam with decoupled weight decay", Family::adaptive,
                      {{"decoupled_weight_decay", true}, {"weight_decay", 1e-2}});
}

}  // namespace nabla::optim
