// AdaHessian (Yao et al., 2021): Adam with the squared gradient replaced by the squared Hessian
// diagonal, estimated by Hutchinson's method from one Hessian-vector product per estimate, with
// the estimate averaged over each convolution kernel's window (before it is squared into the
// running mean) and decoupled weight decay.
#include <algorithm>

#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/inplace.h"
#include "autograd/ops/views.h"
#include "core/creation.h"
#include "optim/closure_optimizer.h"
#include "optim/curvature.h"
#include "optim/hutchinson.h"

namespace nabla::optim {
namespace {

struct AdaHessian {
  struct Options {
    double lr = 0.15;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-4;
    double weight_decay = 0;
    double hessian_power = 1;
    int64_t update_every = 1;
    int64_t seed = 0;

    static auto fields() {
      return std::tuple{
          Field{"lr", &Options::lr, "learning rate"},
          Field{"beta1", &Options::beta1, "decay rate of the gradient's running mean"},
          Field{"beta2", &Options::beta2,
                "decay rate of the squared Hessian diagonal's running mean"},
          Field{"eps", &Options::eps, "added to the denominator, for stability"},
          Field{"weight_decay", &Options::weight_decay,
                "decoupled weight decay, p -= lr * weight_decay * p (as AdamW)"},
          Field{"hessian_power", &Options::hessian_power,
                "the denominator is the root mean square diagonal to this power (1: Newton-like, "
                "0.5: gentler)"},
          Field{"update_every", &Options::update_every,
                "estimate the Hessian diagonal every this many steps"},
          Field{"seed", &Options::seed, "seeds the Rademacher draws of the estimator"}};
    }
    void validate() const {
      check_at_least("adahessian", "lr", lr, 0);
      check_unit_interval("adahessian", "beta1", beta1);
      check_unit_interval("adahessian", "beta2", beta2);
      check_at_least("adahessian", "eps", eps, 0);
      check_at_least("adahessian", "weight_decay", weight_decay, 0);
      check_at_least("adahessian", "hessian_power", hessian_power, 0);
      check_at_least("adahessian", "update_every", static_cast<double>(update_every), 1);
      check_at_least("adahessian", "seed", static_cast<double>(seed), 0);
    }
  };

  static ClosureStep step(StepContext& context, const Options& o) {
    DifferentiableGradients g = differentiable_gradients(context.parameters, context.closure);
    if (context.must_skip(g.loss)) return {detach(g.loss), true};
    const Participants ps = context.participants();
    if (ps.empty()) return {detach(g.loss), false};
    NABLA_CHECK(g.params.size() == ps.size(), ValueError,
                "adahessian: the gradients changed between the closure and the step");

    // A parameter estimates at its steps 1, 1 + update_every, ...; its draw number counts its
    // estimates before. The others get z = 0, which leaves the due ones' estimates unbiased.
    auto due = [&](const Participant& p) { return (p.state->step - 1) % o.update_every == 0; };
    ParamVector diagonal(ps.size());
    if (std::any_of(ps.begin(), ps.end(), due)) {
      ParamVector z;
      for (const Participant& p : ps)
        z.push_back(due(p) ? rademacher(p.param, static_cast<uint64_t>(o.seed), p.name,
                                        static_cast<uint64_t>((p.state->step - 1) / o.update_every))
                           : zeros_like(p.param));
      ParamVector estimate = hutchinson_diagonal(
          [&](const ParamVector& v) { return hessian_vector_product(g, v); }, z);
      for (size_t i = 0; i < ps.size(); ++i)
        if (due(ps[i])) diagonal[i] = spatial_average(estimate[i]);
    }
    const ParamVector grads = clone(g.grads);
    const Tensor loss = detach(g.loss);
    g = {};  // the recorded graph must go before the weights change in place

    NoGradGuard no_grad;
    for (size_t i = 0; i < ps.size(); ++i) {
      const Participant& p = ps[i];
      State& state = *p.state;
      Tensor m = state.zeros("exp_avg", p.param);              // mean gradient
      Tensor v = state.zeros("exp_hessian_diag_sq", p.param);  // mean squared diagonal
      const double estimates = static_cast<double>((state.step - 1) / o.update_every + 1);
      mul_(m, o.beta1);
      add_(m, detach(grads[i]), 1 - o.beta1);
      if (diagonal[i].defined()) {
        mul_(v, o.beta2);
        addcmul_(v, diagonal[i], diagonal[i], 1 - o.beta2);
      }
      if (o.weight_decay != 0) mul_(p.param, 1 - p.lr * o.weight_decay);
      // p -= lr m_hat / (sqrt(v_hat)^k + eps), the biases corrected over steps and estimates.
      const double bias_correction1 = 1 - std::pow(o.beta1, static_cast<double>(state.step));
      const double bias_correction2 = 1 - std::pow(o.beta2, estimates);
      Tensor denom = pow(sqrt(v / bias_correction2), o.hessian_power) + o.eps;
      addcdiv_(p.param, m, denom, -p.lr / bias_correction1);
    }
    return {loss, false};
  }
};

}  // namespace

void register_adahessian(OptimizerRegistry& registry) {
  register_method<AdaHessian>(registry, "adahessian",
                              "AdaHessian: Adam on a Hutchinson estimate of the Hessian diagonal; "
                              "needs step(closure)",
                              Family::adaptive);
}

}  // namespace nabla::optim
