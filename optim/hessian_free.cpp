// Hessian-free steps (Martens, 2010): curvature products at the starting weights, preconditioned
// CG on the damped quadratic model, backtracking over the CG iterates, the Levenberg-Marquardt
// rule for the damping, and an Armijo line search.
#include "optim/hessian_free.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/views.h"
#include "core/creation.h"
#include "optim/closure_optimizer.h"
#include "optim/conjugate_gradient.h"
#include "optim/curvature.h"
#include "optim/gauss_newton.h"
#include "optim/hutchinson.h"

namespace nabla::optim {

namespace {

// Armijo's sufficient decrease, and how the line search shrinks the step and how often (Martens
// 2010, section 4.6: 0.8 per try; 20 tries reach about 1% of the step).
constexpr double kSufficientDecrease = 1e-2;
constexpr double kShrink = 0.8;
constexpr int kLineSearchTries = 20;

// The Levenberg-Marquardt thresholds on the reduction ratio rho = actual / predicted decrease.
constexpr double kPoorPrediction = 0.25;
constexpr double kGoodPrediction = 0.75;

}  // namespace

void HessianFree::Options::validate() const {
  check_at_least("hessian_free", "lr", lr, 0);
  check_one_of("hessian_free", "curvature", curvature, {"hessian", "gauss_newton"});
  check_at_least("hessian_free", "damping", damping, 0);
  check_at_least("hessian_free", "damping_boost", damping_boost, 1);
  check_at_least("hessian_free", "cg_max_iterations", static_cast<double>(cg_max_iterations), 1);
  check_at_least("hessian_free", "cg_tolerance", cg_tolerance, 0);
  check_at_least("hessian_free", "cg_progress_tolerance", cg_progress_tolerance, 0);
  check_unit_interval("hessian_free", "warm_start_decay", warm_start_decay);
  check_one_of("hessian_free", "preconditioner", preconditioner,
               {"hutchinson", "squared_gradient", "none"});
  check_at_least("hessian_free", "preconditioner_exponent", preconditioner_exponent, 0);
  check_unit_interval("hessian_free", "diagonal_decay", diagonal_decay);
  check_at_least("hessian_free", "seed", static_cast<double>(seed), 0);
}

HessianFree::HessianFree(std::string name, std::vector<OptionSpec> specs, NamedTensors params,
                         const OptionMap& options)
    : Optimizer(std::move(name), std::move(specs), std::move(params), options) {
  validate(param_groups()[0].options);
}

void HessianFree::validate(const OptionMap& options) const {
  read_options<Options>(options).validate();
}

StepResult HessianFree::step(const OutputsClosure& closure) {
  NABLA_CHECK(static_cast<bool>(closure), ValueError, name(),
              ": step(OutputsClosure) got an empty closure");
  outputs_closure_ = &closure;
  struct Forget {
    HessianFree& self;
    ~Forget() {
      self.outputs_closure_ = nullptr;
      self.last_outputs_ = {};
      self.forward_only_ = false;
    }
  } forget{*this};
  // Through the driver's step(closure), which counts closure calls and the step.
  return Optimizer::step(Closure([this] {
    ModelOutputs m = (*outputs_closure_)();
    NABLA_CHECK(m.loss.defined() && m.loss.numel() == 1, ValueError, name(),
                ": the closure must return the loss, one value");
    if (forward_only_) {
      last_outputs_ = m;
    } else {
      backward(m.loss);
    }
    return m.loss;
  }));
}

Participants HessianFree::participants() {
  Participants ps;
  for (const ParamGroup& group : param_groups()) {
    const double lr = group.options.at("lr").real();
    for (const auto& [name, p] : group.params) {
      if (!p.grad().defined()) continue;
      State& state = state_of(name);
      ++state.step;
      ps.push_back({name, p, lr, &state});
    }
  }
  return ps;
}

ClosureStep HessianFree::closure_step(const Closure& closure) {
  const Options o = read_options<Options>(param_groups()[0].options);
  const bool gauss_newton = o.curvature == "gauss_newton";
  NABLA_CHECK(!gauss_newton || outputs_closure_, ValueError,
              "hessian_free: curvature 'gauss_newton' needs the model's outputs: call "
              "HessianFree::step(OutputsClosure) with a closure that returns {outputs, loss} "
              "(optim/hessian_free.h), or use curvature 'hessian'");
  // Runs the closure for the loss alone: without backward when the closure allows it.
  auto loss_only = [&] {
    forward_only_ = outputs_closure_ != nullptr;
    Tensor loss = closure();
    forward_only_ = false;
    last_outputs_ = {};
    const double value = loss.item();
    return std::isfinite(value) ? value : std::numeric_limits<double>::infinity();
  };

  // ---- The loss, the gradients and the curvature at the starting weights ----
  std::optional<DifferentiableGradients> hessian;
  std::optional<GaussNewtonProduct> gauss_newton_product;
  Tensor loss;
  if (gauss_newton) {
    forward_only_ = true;
    loss = closure();
    forward_only_ = false;
    std::vector<Tensor> inputs;
    for (const auto& [name, p] : named_parameters())
      if (p.requires_grad()) inputs.push_back(p);
    std::vector<Tensor> grads =
        autograd::grad({loss}, inputs, {}, {.retain_graph = true, .allow_unused = true});
    for (size_t i = 0; i < inputs.size(); ++i)
      if (grads[i].defined()) inputs[i].set_grad(detach(grads[i]));
  } else {
    hessian = differentiable_gradients(named_parameters(), closure);
    loss = hessian->loss;
  }
  NABLA_CHECK(loss.defined() && loss.numel() == 1, ValueError, name(),
              ": the closure must return the loss, one value");
  const double start_loss = loss.item();
  if (skip_nonfinite() && !(std::isfinite(start_loss) && gradients_finite()))
    return {detach(loss), true};
  const Participants ps = participants();
  if (ps.empty()) return {detach(loss), false};
  if (gauss_newton) {
    std::vector<Tensor> params;
    for (const Participant& p : ps) params.push_back(p.param);
    gauss_newton_product.emplace(last_outputs_.outputs, loss, params);
  }
  auto curvature = [&](const ParamVector& v) {
    return gauss_newton ? (*gauss_newton_product)(v) : hessian_vector_product(*hessian, v);
  };
  const ParamVector g = clone(gradients(ps));
  double damping = shared_scalar(ps, "damping", o.damping);

  // ---- CG's preconditioner: (|running diagonal estimate| + lambda)^exponent ----
  ParamVector inverse_preconditioner;
  if (o.preconditioner != "none") {
    ParamVector estimate;
    if (o.preconditioner == "hutchinson") {
      ParamVector z;
      for (const Participant& p : ps)
        z.push_back(rademacher(p.param, static_cast<uint64_t>(o.seed), p.name,
                               static_cast<uint64_t>(p.state->step - 1)));
      estimate = hutchinson_diagonal(curvature, z);
    } else {
      for (const Tensor& gi : g) estimate.push_back(gi * gi);
    }
    ParamVector diagonal = slot_vector(ps, "curvature_diagonal");
    for (size_t i = 0; i < ps.size(); ++i) {
      diagonal[i] = diagonal[i].defined()
                        ? diagonal[i] * o.diagonal_decay + estimate[i] * (1 - o.diagonal_decay)
                        : estimate[i];
      inverse_preconditioner.push_back(pow(abs(diagonal[i]) + damping, -o.preconditioner_exponent));
    }
    set_slot_vector(ps, "curvature_diagonal", diagonal);
  }

  // ---- CG on (B + lambda I) x = -g, warm-started from the last solution ----
  ParamVector start_x = slot_vector(ps, "cg_direction");
  for (size_t i = 0; i < ps.size(); ++i)
    start_x[i] = start_x[i].defined() ? start_x[i] * o.warm_start_decay : zeros_like(ps[i].param);
  auto damped = [&](const ParamVector& v) {
    ParamVector bv = curvature(v);
    axpy_(bv, damping, v);
    return bv;
  };
  CgResult cg = conjugate_gradient(damped, g, std::move(start_x), inverse_preconditioner,
                                   {.max_iterations = o.cg_max_iterations,
                                    .tolerance = o.cg_tolerance,
                                    .progress_tolerance = o.cg_progress_tolerance});
  set_slot_vector(ps, "cg_direction", clone(cg.saved.back().x));
  set_shared_scalar(ps, "cg_iterations", static_cast<double>(cg.iterations));

  // ---- The model's predicted change q(d) = g.d + 1/2 d.B.d for each candidate step ----
  // d = lr x. With one learning rate, x.B.x follows from CG's phi(x) = 1/2 x.(B + lambda)x + g.x;
  // otherwise it takes a product per candidate. Either way before the weights change, which
  // would invalidate the recorded graph.
  if (!o.backtrack) cg.saved.erase(cg.saved.begin(), cg.saved.end() - 1);
  const bool one_lr =
      std::all_of(ps.begin(), ps.end(), [&](const Participant& p) { return p.lr == ps[0].lr; });
  std::vector<ParamVector> steps;
  std::vector<double> predicted;
  for (const CgIterate& it : cg.saved) {
    steps.push_back(scaled_by_lr(ps, it.x));
    if (one_lr) {
      const double lr = ps[0].lr, gx = dot(g, it.x);
      const double xbx = 2 * (it.phi - gx) - damping * dot(it.x, it.x);
      predicted.push_back(lr * gx + 0.5 * lr * lr * xbx);
    } else {
      predicted.push_back(dot(g, steps.back()) + 0.5 * dot(steps.back(), curvature(steps.back())));
    }
  }
  hessian.reset();
  gauss_newton_product.reset();
  last_outputs_ = {};
  loss = detach(loss);

  // ---- Backtracking: from the last CG iterate back while the loss keeps falling ----
  const ParamVector start = clone(parameters(ps));
  auto loss_at = [&](const ParamVector& d, double t) {
    {
      NoGradGuard no_grad;
      set_parameters(ps, start, t, d);
    }
    return loss_only();
  };
  size_t best = steps.size() - 1;
  double best_loss = loss_at(steps[best], 1);
  while (best > 0) {
    const double earlier = loss_at(steps[best - 1], 1);
    if (!(earlier < best_loss)) break;
    --best;
    best_loss = earlier;
  }

  // ---- Levenberg-Marquardt: trust the quadratic model more or less next time ----
  const bool moved = max_abs(steps[best]) > 0;
  if (moved) {
    const double rho = predicted[best] < 0 ? (best_loss - start_loss) / predicted[best]
                                           : -std::numeric_limits<double>::infinity();
    if (rho < kPoorPrediction) damping *= o.damping_boost;
    if (rho > kGoodPrediction) damping /= o.damping_boost;
  }
  set_shared_scalar(ps, "damping", damping);

  // ---- Armijo line search along the chosen step ----
  const ParamVector& d = steps[best];
  const double slope = std::min(dot(g, d), 0.0);
  double t = 1, trial = best_loss;
  auto enough = [&] { return trial <= start_loss + kSufficientDecrease * t * slope; };
  for (int tries = 0; o.line_search && moved && !enough() && tries < kLineSearchTries; ++tries) {
    t *= kShrink;
    trial = loss_at(d, t);
  }
  if (o.line_search && !enough()) t = 0;
  {
    NoGradGuard no_grad;
    set_parameters(ps, start, t, d);
  }
  // The gradients read as after the first evaluation, whatever the trials left there.
  for (size_t i = 0; i < ps.size(); ++i) ps[i].param.set_grad(g[i]);
  return {loss, false};
}

void register_hessian_free(OptimizerRegistry& registry) {
  std::vector<OptionSpec> specs = option_specs<HessianFree::Options>();
  registry.add({"hessian_free",
                "Hessian-free (truncated Newton): CG on Hessian or Gauss-Newton products with "
                "adaptive damping; needs step(closure)",
                Family::second_order, specs,
                [specs](NamedTensors params, const OptionMap& options) {
                  return std::unique_ptr<Optimizer>(std::make_unique<HessianFree>(
                      "hessian_free", specs, std::move(params), options));
                }});
}

}  // namespace nabla::optim
