// LARS (You, Gitman & Ginsburg, 2017): momentum SGD whose step is rescaled per tensor by the
// local learning rate eta |w| / (|g| + weight_decay |w|), for large-batch training.
#include "optim/rule.h"

namespace nabla::optim {
namespace {

struct Lars {
  struct Options {
    double lr = 1.0;
    double momentum = 0.9;
    double weight_decay = 0;
    double trust_coefficient = 1e-3;
    double eps = 1e-9;

    static auto fields() {
      return std::tuple{
          Field{"lr", &Options::lr, "global learning rate (gamma)"},
          Field{"momentum", &Options::momentum, "momentum factor"},
          Field{"weight_decay", &Options::weight_decay, "L2 penalty (beta), inside the ratio"},
          Field{"trust_coefficient", &Options::trust_coefficient, "eta, the local lr's scale"},
          Field{"eps", &Options::eps, "added to the local lr's denominator"}};
    }
    void validate() const {
      check_at_least("lars", "lr", lr, 0);
      check_unit_interval("lars", "momentum", momentum);
      check_at_least("lars", "weight_decay", weight_decay, 0);
      check_positive("lars", "trust_coefficient", trust_coefficient);
      check_at_least("lars", "eps", eps, 0);
    }
  };

  static void update(const Tensor& param, const Tensor& grad, State& state, const Options& o,
                     int64_t /*step*/) {
    double w_norm = norm(param).item();
    double g_norm = norm(grad).item();
    double local_lr = w_norm > 0 && g_norm > 0 ? o.trust_coefficient * w_norm /
                                                     (g_norm + o.weight_decay * w_norm + o.eps)
                                               : 1.0;
    // v = momentum v + lr * local_lr * (g + weight_decay w); w -= v
    Tensor d = o.weight_decay != 0 ? grad + o.weight_decay * param : grad;
    Tensor v = state.zeros("momentum_buffer", param);
    mul_(v, o.momentum);
    add_(v, d, o.lr * local_lr);
    sub_(param, v);
  }
};

}  // namespace

void register_lars(OptimizerRegistry& registry) {
  register_rule<Lars>(registry, "lars", "LARS: momentum SGD with a per-tensor trust ratio",
                      Family::trust_ratio);
}

}  // namespace nabla::optim
