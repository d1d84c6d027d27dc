// Hypergradient descent (Baydin et al., 2018): SGD-HD and Adam-HD learn their learning rate online
// from the dot product of this step's gradient with the previous step's direction.
#include "optim/rule.h"

namespace nabla::optim {
namespace {

// With w_t = w_{t-1} - lr u_{t-1}, d loss(w_t) / d lr = -g_t . u_{t-1}, so gradient descent on
// the learning rate is lr += hypergrad_lr * g_t . u_{t-1}, summed over the group. Then every
// parameter steps along its new direction u_t = direction(entry, g_t) with the new lr.
template <class Direction>
void hypergradient_step(std::vector<GroupEntry>& group, double& lr, double hypergrad_lr,
                        double weight_decay, Direction direction) {
  std::vector<Tensor> grads;
  double h = 0;
  for (GroupEntry& e : group) {
    Tensor g = weight_decay != 0 ? e.grad + weight_decay * e.param : e.grad;
    Tensor previous = e.state.find("previous_direction");
    if (previous.defined()) h += sum(g * previous).item();
    grads.push_back(g);
  }
  lr += hypergrad_lr * h;
  for (size_t i = 0; i < group.size(); ++i) {
    Tensor u = direction(group[i], grads[i]);
    add_(group[i].param, u, -lr);
    group[i].state.set("previous_direction", u);
  }
}

struct SgdHd {
  struct Options {
    double lr = 1e-3;
    double hypergrad_lr = 1e-3;
    double weight_decay = 0;

    static auto fields() {
      return std::tuple{
          Field{"lr", &Options::lr, "initial learning rate, then learned"},
          Field{"hypergrad_lr", &Options::hypergrad_lr, "learning rate of the learning rate"},
          Field{"weight_decay", &Options::weight_decay, "L2 penalty added to the gradient"}};
    }
    void validate() const {
      check_at_least("sgd_hd", "hypergrad_lr", hypergrad_lr, 0);
      check_at_least("sgd_hd", "weight_decay", weight_decay, 0);
    }
  };

  static void update_group(std::vector<GroupEntry>& group, Options& o) {
    // A copy: the gradient tensor is the caller's, and may be zeroed in place.
    hypergradient_step(group, o.lr, o.hypergrad_lr, o.weight_decay,
                       [](GroupEntry&, const Tensor& g) { return core::clone(g); });
  }
};

struct AdamHd {
  struct Options {
    double lr = 1e-3;
    double hypergrad_lr = 1e-7;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0;

    static auto fields() {
      return std::tuple{
          Field{"lr", &Options::lr, "initial learning rate, then learned"},
          Field{"hypergrad_lr", &Options::hypergrad_lr, "learning rate of the learning rate"},
          Field{"beta1", &Options::beta1, "decay rate of the gradient's running mean"},
          Field{"beta2", &Options::beta2, "decay rate of the squared gradient's running mean"},
          Field{"eps", &Options::eps, "added to the denominator, for stability"},
          Field{"weight_decay", &Options::weight_decay, "L2 penalty added to the gradient"}};
    }
    void validate() const {
      check_at_least("adam_hd", "hypergrad_lr", hypergrad_lr, 0);
      check_unit_interval("adam_hd", "beta1", beta1);
      check_unit_interval("adam_hd", "beta2", beta2);
      check_at_least("adam_hd", "eps", eps, 0);
      check_at_least("adam_hd", "weight_decay", weight_decay, 0);
    }
  };

  static void update_group(std::vector<GroupEntry>& group, Options& o) {
    hypergradient_step(
        group, o.lr, o.hypergrad_lr, o.weight_decay, [&](GroupEntry& e, const Tensor& g) {
          Tensor m = e.state.zeros("exp_avg", e.param);
          Tensor v = e.state.zeros("exp_avg_sq", e.param);
          mul_(m, o.beta1);
          add_(m, g, 1 - o.beta1);
          mul_(v, o.beta2);
          addcmul_(v, g, g, 1 - o.beta2);
          auto t = static_cast<double>(e.state.step);
          // u = m_hat / (sqrt(v_hat) + eps)
          return (m / (1 - std::pow(o.beta1, t))) / (sqrt(v / (1 - std::pow(o.beta2, t))) + o.eps);
        });
  }
};

}  // namespace

void register_hypergradient(OptimizerRegistry& registry) {
  register_rule<SgdHd>(registry, "sgd_hd", "SGD that learns its learning rate (hypergradient)",
                       Family::gradient);
  register_rule<AdamHd>(registry, "adam_hd", "Adam that learns its learning rate (hypergradient)",
                        Family::adaptive);
}

}  // namespace nabla::optim
