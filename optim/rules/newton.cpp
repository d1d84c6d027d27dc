// Newton's method for small problems: the exact Hessian by double backward, a Levenberg-Marquardt
// damped solve through its eigendecomposition, and a backtracking (Armijo) line search.
#include <algorithm>
#include <cmath>

#include "core/ops.h"
#include "optim/closure_optimizer.h"
#include "optim/curvature.h"

namespace nabla::optim {
namespace {

// The Hessian [n, n] in float64 on the CPU, column j from the Hessian-vector product with the
// j-th unit vector (one backward pass each), symmetrized against rounding.
Tensor dense_hessian(const DifferentiableGradients& g, const Participants& ps, int64_t n) {
  ParamVector like = parameters(ps);
  std::vector<Tensor> columns;
  for (int64_t j = 0; j < n; ++j) {
    Tensor unit = zeros({n}, {.dtype = kFloat64});
    unit.data<double>()[j] = 1;
    columns.push_back(
        core::reshape(flatten(hessian_vector_product(g, unflatten(unit, like))), {n, 1}));
  }
  Tensor h = core::cat(columns, 1);
  return core::binary(BinaryOp::mul,
                      core::binary(BinaryOp::add, h, core::contiguous(core::transpose(h, 0, 1))),
                      0.5);
}

struct Newton {
  struct Options {
    double lr = 1;
    double damping = 0;
    int64_t max_params = 2000;
    int64_t max_backtracks = 30;
    double sufficient_decrease = 1e-4;

    static auto fields() {
      return std::tuple{
          Field{"lr", &Options::lr, "scale of the Newton step: the line search's first trial"},
          Field{"damping", &Options::damping,
                "initial Levenberg-Marquardt damping added to the Hessian's diagonal, then "
                "adapted to how well the quadratic model predicts the loss"},
          Field{"max_params", &Options::max_params,
                "the most parameter elements, n, for the dense n x n Hessian"},
          Field{"max_backtracks", &Options::max_backtracks,
                "halvings of the step the line search may try (0: take the step as it is)"},
          Field{"sufficient_decrease", &Options::sufficient_decrease,
                "Armijo's c1: accept t when loss(x + t p) <= loss(x) + c1 t g . p"}};
    }
    void validate() const {
      check_at_least("newton", "lr", lr, 0);
      check_at_least("newton", "damping", damping, 0);
      check_at_least("newton", "max_params", static_cast<double>(max_params), 1);
      check_at_least("newton", "max_backtracks", static_cast<double>(max_backtracks), 0);
      NABLA_CHECK(sufficient_decrease > 0 && sufficient_decrease < 1, ValueError,
                  "newton: sufficient_decrease must lie in (0, 1), got ", sufficient_decrease);
    }
  };

  // Note [Newton's damping]
  // The step solves (H + mu I) d = -g with H = V diag(w) V^T, so d = -V diag(1 / (w + mu)) V^T g.
  // mu is the damping lambda (the shared scalar "damping", starting at the option), raised when
  // H + lambda I is not safely positive definite (then the lowest eigenvalue w_0 < 0 becomes
  // |w_0|), so d always descends. After the line search,
  // rho = actual / predicted decrease (the model: g . tp + 1/2 (tp)^T H (tp)) adapts lambda as a
  // trust region would: a full step that the model predicted well (rho > 3/4) divides it by 4;
  // a shortened step, a poor prediction (rho < 1/4) or a failed search multiplies it by 4 (from
  // at least 1e-6 of the largest curvature). A strictly convex quadratic keeps lambda = 0 and is
  // solved in one step.
  static ClosureStep step(StepContext& context, const Options& o) {
    DifferentiableGradients graph = differentiable_gradients(context.parameters, context.closure);
    const Tensor loss = graph.loss;
    if (context.must_skip(loss)) return {loss, true};
    int64_t n = 0;
    for (const auto& [name, param] : graph.params) n += param.numel();
    NABLA_CHECK(n <= o.max_params, ValueError, "newton: the parameters have ", n,
                " elements, more than max_params = ", o.max_params,
                ", the limit for a dense Hessian (", n, " x ", n,
                "); raise max_params, or use lbfgs or a Hessian-free method");
    Participants ps = context.participants();
    if (ps.empty()) return {loss, false};

    Tensor h = dense_hessian(graph, ps, n);  // [n, n]
    graph = {};                              // frees the graph before the weights change
    Tensor g = flatten(gradients(ps));       // [n]
    auto [w, v] = core::eigh(h);             // H = V diag(w) V^T, w ascending
    std::vector<double> curvatures = w.to_vector<double>();
    double scale = std::max({1.0, std::fabs(curvatures.front()), std::fabs(curvatures.back())});
    double damping = shared_scalar(ps, "damping", o.damping);
    // H + mu I, at least as damped as asked, with every eigenvalue at least 1e-8 of the scale;
    // a negative one is flipped to its absolute value, so the step along it stays moderate.
    double mu = damping, least = 1e-8 * scale, lowest = curvatures.front();
    if (lowest + mu < least) mu = 2 * std::max(-lowest, 0.0) + least;

    // d = -V diag(1 / (w + mu)) V^T g, then p = lr * d per group.
    Tensor coefficients = core::matmul(core::transpose(v, 0, 1), g);
    Tensor inverse = core::binary(BinaryOp::div, -1.0, core::binary(BinaryOp::add, w, mu));
    Tensor d = core::matmul(v, core::binary(BinaryOp::mul, coefficients, inverse));
    ParamVector p = scaled_by_lr(ps, unflatten(d, gradients(ps)));
    Tensor p_flat = flatten(p);
    double slope = dot(gradients(ps), p);
    if (!(slope < 0)) {  // zero learning rates, or groups whose rates make d ascend together
      set_shared_scalar(ps, "damping", damping);
      return {loss, false};
    }
    double curvature =
        core::reduce(ReduceOp::sum, core::binary(BinaryOp::mul, p_flat, core::matmul(h, p_flat)),
                     {}, false)
            .item();

    ParamVector x = clone(parameters(ps));
    if (o.max_backtracks == 0) {  // the full step, unchecked; the damping stays
      set_parameters(ps, x, 1, p);
      set_shared_scalar(ps, "damping", damping);
      return {loss, false};
    }
    // Backtracking from t = 1: halve until the Armijo condition holds.
    const double f0 = loss.item();
    double t = 1, f = f0;
    bool accepted = false;
    for (int64_t k = 0; k <= o.max_backtracks; ++k, t *= 0.5) {
      set_parameters(ps, x, t, p);
      f = context.closure().item();
      accepted = f <= f0 + o.sufficient_decrease * t * slope;
      if (accepted) break;
    }
    if (!accepted) set_parameters(ps, x, 0, p);

    double predicted = -(t * slope + 0.5 * t * t * curvature);
    double ratio = predicted > 0 ? (f0 - f) / predicted : 0;
    if (accepted && t == 1 && ratio > 0.75) {
      damping /= 4;
    } else if (!accepted || t < 1 || ratio < 0.25) {
      damping = std::max(4 * damping, 1e-6 * scale);
    }
    set_shared_scalar(ps, "damping", damping);
    return {loss, false};
  }
};

}  // namespace

void register_newton(OptimizerRegistry& registry) {
  register_method<Newton>(registry, "newton",
                          "Newton's method with a dense Hessian, damping and a line search, for "
                          "small problems; needs step(closure)",
                          Family::second_order);
}

}  // namespace nabla::optim
