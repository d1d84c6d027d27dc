// LAMB (You et al., 2020): Adam's step, plus decoupled weight decay, rescaled per tensor by the
// trust ratio |w| / |step| so that every layer moves by a similar fraction of its norm.
#include "optim/rule.h"

namespace nabla::optim {
namespace {

struct Lamb {
  struct Options {
    double lr = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-6;
    double weight_decay = 0;
    bool bias_correction = true;

    static auto fields() {
      return std::tuple{
          Field{"lr", &Options::lr, "learning rate"},
          Field{"beta1", &Options::beta1, "decay rate of the gradient's running mean"},
          Field{"beta2", &Options::beta2, "decay rate of the squared gradient's running mean"},
          Field{"eps", &Options::eps, "added to the denominator, for stability"},
          Field{"weight_decay", &Options::weight_decay, "decoupled weight decay, inside the ratio"},
          Field{"bias_correction", &Options::bias_correction, "Adam's bias correction"}};
    }
    void validate() const {
      check_at_least("lamb", "lr", lr, 0);
      check_unit_interval("lamb", "beta1", beta1);
      check_unit_interval("lamb", "beta2", beta2);
      check_at_least("lamb", "eps", eps, 0);
      check_at_least("lamb", "weight_decay", weight_decay, 0);
    }
  };

  static void update(const Tensor& param, const Tensor& grad, State& state, const Options& o,
                     int64_t step) {
    Tensor m = state.zeros("exp_avg", param);
    Tensor v = state.zeros("exp_avg_sq", param);
    mul_(m, o.beta1);
    add_(m, grad, 1 - o.beta1);
    mul_(v, o.beta2);
    addcmul_(v, grad, grad, 1 - o.beta2);
    auto t = static_cast<double>(step);
    double bias_correction1 = o.bias_correction ? 1 - std::pow(o.beta1, t) : 1;
    double bias_correction2 = o.bias_correction ? 1 - std::pow(o.beta2, t) : 1;
    // r = m_hat / (sqrt(v_hat) + eps) + weight_decay * w; w -= lr * (|w| / |r|) * r
    Tensor r = (m / bias_correction1) / (sqrt(v / bias_correction2) + o.eps);
    if (o.weight_decay != 0) r = r + o.weight_decay * param;
    double w_norm = norm(param).item();
    double r_norm = norm(r).item();
    double trust_ratio = w_norm > 0 && r_norm > 0 ? w_norm / r_norm : 1.0;
    add_(param, r, -o.lr * trust_ratio);
  }
};

}  // namespace

void register_lamb(OptimizerRegistry& registry) {
  register_rule<Lamb>(registry, "lamb", "LAMB: Adam with a per-tensor trust ratio",
                      Family::trust_ratio);
}

}  // namespace nabla::optim
