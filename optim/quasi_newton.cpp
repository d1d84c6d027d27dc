// The quasi-Newton step of BFGS and L-BFGS.
#include "optim/quasi_newton.h"

#include <algorithm>
#include <cmath>

#include "optim/line_search.h"

namespace nabla::optim {

void QuasiNewtonOptions::validate(const char* owner) const {
  check_at_least(owner, "lr", lr, 0);
  check_at_least(owner, "max_iter", static_cast<double>(max_iter), 1);
  check_at_least(owner, "max_eval", static_cast<double>(max_eval), 0);
  check_at_least(owner, "tolerance_grad", tolerance_grad, 0);
  check_at_least(owner, "tolerance_change", tolerance_change, 0);
  check_one_of(owner, "line_search", line_search, {"none", "strong_wolfe"});
  NABLA_CHECK(0 < sufficient_decrease && sufficient_decrease < curvature && curvature < 1,
              ValueError, owner,
              ": the strong Wolfe conditions need 0 < sufficient_decrease < curvature < 1, got ",
              sufficient_decrease, " and ", curvature);
}

// Note [quasi-Newton steps]
// One step follows torch.optim.LBFGS.step (1.13), so that trajectories match PyTorch's:
// evaluate the closure; stop if max |g| <= tolerance_grad; else iterate up to max_iter times:
// - the first iteration ever goes along -g; later ones first take in the pair s (the last
//   move), y (the change of gradient) when s . y > 1e-10 (else the pair is skipped and counted
//   in the scalar "skipped_updates"), then go along d = -H g;
// - the search direction is p = lr * d, each group with its own lr, from step t = 1, or
//   t = min(1, 1 / |g|_1) on the first iteration ever; a slope g . p > -tolerance_change ends
//   the step;
// - with line_search "strong_wolfe" the search picks t; with "none" the weights move by t p and
//   the closure runs again, except after the last iteration;
// - the step ends after max_iter iterations, max_eval evaluations, max |g| <= tolerance_grad,
//   max |t p| <= tolerance_change, or a change of loss below tolerance_change.
// Unlike PyTorch, a non-finite direction ends the step before it moves the weights, and a move
// to a non-finite loss or gradient is taken back before the step ends.
// The last p, t, gradient and loss carry over to the next step in the participants' state, so
// the next step's first iteration continues the same sequence of pairs.

namespace {

// What carries over from one step to the next, beside the method's own state.
struct Carried {
  double iterations = 0;  // over all steps; 0 before the first
  double evaluations = 0;
  double skipped_updates = 0;
  double t = 0;
  double previous_loss = 0;
  ParamVector direction;  // p of the last iteration
  ParamVector previous_grad;
};

Carried load(const Participants& ps) {
  // A participant that joined (or came back) does not hold the same count as the others; then
  // the vectors kept over all of them no longer fit, and the method starts afresh.
  if (!shared_scalar_agrees(ps, "iterations")) clear_state(ps);
  Carried c;
  c.iterations = shared_scalar(ps, "iterations", 0);
  c.evaluations = shared_scalar(ps, "evaluations", 0);
  c.skipped_updates = shared_scalar(ps, "skipped_updates", 0);
  c.t = shared_scalar(ps, "t", 0);
  c.previous_loss = shared_scalar(ps, "previous_loss", 0);
  c.direction = slot_vector(ps, "direction");
  c.previous_grad = slot_vector(ps, "previous_grad");
  return c;
}

void save(const Participants& ps, const Carried& c) {
  set_shared_scalar(ps, "iterations", c.iterations);
  set_shared_scalar(ps, "evaluations", c.evaluations);
  set_shared_scalar(ps, "skipped_updates", c.skipped_updates);
  if (c.iterations == 0) return;
  set_shared_scalar(ps, "t", c.t);
  set_shared_scalar(ps, "previous_loss", c.previous_loss);
  set_slot_vector(ps, "direction", c.direction);
  set_slot_vector(ps, "previous_grad", c.previous_grad);
}

}  // namespace

ClosureStep quasi_newton_step(StepContext& context, const QuasiNewtonOptions& o,
                              const InverseHessian& inverse_hessian) {
  Tensor first_loss = context.closure();
  if (context.must_skip(first_loss)) return {first_loss, true};
  Participants ps = context.participants();
  if (ps.empty()) return {first_loss, false};

  Carried c = load(ps);
  const int64_t max_eval = o.max_eval > 0 ? o.max_eval : o.max_iter * 5 / 4;
  int64_t evaluations = 1;
  c.evaluations += 1;
  double loss = first_loss.item();
  ParamVector g = gradients(ps);
  bool converged = max_abs(g) <= o.tolerance_grad;

  // phi(t) = loss(x + t p) for the line search, from the weights x it starts at.
  ParamVector x;
  LineFunction phi = [&](double t) {
    set_parameters(ps, x, t, c.direction);
    LinePoint point;
    point.t = t;
    point.loss = context.closure().item();
    point.grad = gradients(ps);
    point.slope = dot(point.grad, c.direction);
    return point;
  };

  for (int64_t iteration = 1; iteration <= o.max_iter && !converged; ++iteration) {
    c.iterations += 1;
    ParamVector d;
    if (c.iterations == 1) {
      inverse_hessian.reset(ps);
      d = scaled(g, -1);
    } else {
      ParamVector y = difference(g, c.previous_grad);
      ParamVector s = scaled(c.direction, c.t);
      double sy = dot(s, y);
      if (sy > 1e-10) {
        inverse_hessian.update(ps, s, y, sy);
      } else {
        c.skipped_updates += 1;
      }
      d = inverse_hessian.direction(ps, g);
    }
    c.previous_grad = clone(g);
    c.previous_loss = loss;
    c.t = c.iterations == 1 ? std::min(1.0, 1.0 / sum_abs(g)) : 1.0;
    c.direction = scaled_by_lr(ps, d);
    double slope = dot(g, c.direction);
    // A non-finite slope means a non-finite direction, which must not reach the weights.
    if (slope > -o.tolerance_change || !std::isfinite(slope)) break;

    int64_t spent = 0;
    x = clone(parameters(ps));
    if (o.line_search == "strong_wolfe") {
      LineSearchResult found = strong_wolfe(phi, {0, loss, g, slope}, c.t, max_abs(c.direction),
                                            {.sufficient_decrease = o.sufficient_decrease,
                                             .curvature = o.curvature,
                                             .tolerance_change = o.tolerance_change});
      loss = found.point.loss;
      g = found.point.grad;
      c.t = found.point.t;
      spent = found.evaluations;
      set_parameters(ps, x, c.t, c.direction);
      converged = max_abs(g) <= o.tolerance_grad;
    } else {
      axpy_(parameters(ps), c.t, c.direction);
      // After the last iteration the next step's closure gives the new loss and gradient.
      if (iteration != o.max_iter) {
        loss = context.closure().item();
        g = gradients(ps);
        converged = max_abs(g) <= o.tolerance_grad;
        spent = 1;
      }
    }
    evaluations += spent;
    c.evaluations += static_cast<double>(spent);
    // A step into overflow (a loss unbounded below, say) is taken back, and the step ends.
    if (spent > 0 && !(std::isfinite(loss) && std::isfinite(max_abs(g)))) {
      copy_(parameters(ps), x);
      c.t = 0;  // so the next step's pair records no move
      break;
    }
    if (evaluations >= max_eval) break;
    if (max_abs(c.direction) * c.t <= o.tolerance_change) break;
    if (std::fabs(loss - c.previous_loss) < o.tolerance_change) break;
  }
  save(ps, c);
  return {first_loss, false};
}

}  // namespace nabla::optim
