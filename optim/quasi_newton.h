// The step shared by BFGS and L-BFGS, with torch.optim.LBFGS's semantics: up to max_iter
// iterations per step, each along -H g for the method's inverse-Hessian estimate H, with a fixed
// step or a strong-Wolfe line search, stopping early on small gradients or lack of progress.
#pragma once

#include <cstdint>
#include <string>

#include "optim/closure_optimizer.h"

namespace nabla::optim {

// Options both methods share; each method's Options struct lists them in its field table.
struct QuasiNewtonOptions {
  double lr = 1;
  int64_t max_iter = 20;
  int64_t max_eval = 0;  // 0: max_iter * 5 / 4
  double tolerance_grad = 1e-7;
  double tolerance_change = 1e-9;
  std::string line_search = "none";   // or "strong_wolfe"
  double sufficient_decrease = 1e-4;  // the strong Wolfe conditions' c1 and c2
  double curvature = 0.9;

  // Checks these options for `owner` ("lbfgs: max_iter must be >= 1, got 0").
  void validate(const char* owner) const;
};

// A method's inverse-Hessian estimate, kept in the participants' state.
class InverseHessian {
 public:
  virtual ~InverseHessian() = default;
  // Forgets every curvature pair: the first iteration, or the parameters that take part changed.
  virtual void reset(const Participants& ps) const = 0;
  // Takes in the pair s = x_new - x_old, y = g_new - g_old, whose s . y = sy is positive.
  virtual void update(const Participants& ps, const ParamVector& s, const ParamVector& y,
                      double sy) const = 0;
  // -H g.
  virtual ParamVector direction(const Participants& ps, const ParamVector& g) const = 0;
};

// One optimizer step (Note [quasi-Newton steps] in quasi_newton.cpp).
ClosureStep quasi_newton_step(StepContext& context, const QuasiNewtonOptions& options,
                              const InverseHessian& inverse_hessian);

}  // namespace nabla::optim
