// Hessian-free optimization (Martens, 2010), a truncated Newton method: each step minimizes a
// damped quadratic model of the loss by preconditioned conjugate gradient on curvature-vector
// products, never forming the curvature matrix. Created by name like any optimizer:
//   auto optimizer = optim::create("hessian_free", model.named_parameters());
//   optimizer->step(closure);  // curvature "hessian": closure calls backward(loss), returns loss
// Gauss-Newton curvature needs the model's outputs, which an ordinary closure hides; it takes a
// closure that returns them with the loss and leaves backward to the optimizer:
//   auto& hf = dynamic_cast<optim::HessianFree&>(*optimizer);  // {{"curvature", "gauss_newton"}}
//   hf.step(optim::OutputsClosure([&] {
//     Tensor logits = model(x);
//     return optim::ModelOutputs{logits, nn::cross_entropy(logits, y)};
//   }));
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "optim/closure_optimizer.h"
#include "optim/optimizer.h"
#include "optim/registry.h"

namespace nabla::optim {

// What a Gauss-Newton closure returns: the model's outputs and the loss computed from them, both
// with their graphs (the closure does not call backward).
struct ModelOutputs {
  Tensor outputs;
  Tensor loss;
};
using OutputsClosure = std::function<ModelOutputs()>;

// The state, per parameter so that state dicts keep it: the slots cg_direction (the last CG
// solution, where the next CG starts) and curvature_diagonal (the preconditioner's running
// estimate), and the scalars damping (the current lambda) and cg_iterations (of the last step),
// the same in every parameter's state. Options other than lr are the first group's.
class HessianFree final : public Optimizer {
 public:
  struct Options {
    double lr = 1;  // scales the step the quadratic model proposes
    std::string curvature = "hessian";
    double damping = 1;  // the first step's; then adapted and kept in the state
    double damping_boost = 1.5;
    int64_t cg_max_iterations = 50;
    double cg_tolerance = 1e-6;
    double cg_progress_tolerance = 5e-4;
    double warm_start_decay = 0.95;
    std::string preconditioner = "hutchinson";
    double preconditioner_exponent = 0.75;
    double diagonal_decay = 0.95;
    bool backtrack = true;
    bool line_search = true;
    int64_t seed = 0;

    static auto fields() {
      return std::tuple{
          Field{"lr", &Options::lr, "multiplies the step the quadratic model proposes"},
          Field{"curvature", &Options::curvature,
                "hessian (any closure) or gauss_newton (step(OutputsClosure))"},
          Field{"damping", &Options::damping,
                "initial Tikhonov damping lambda: the model's curvature is B + lambda I"},
          Field{"damping_boost", &Options::damping_boost,
                "lambda is multiplied by it when the model predicted the loss badly "
                "(reduction ratio < 1/4) and divided by it when well (> 3/4)"},
          Field{"cg_max_iterations", &Options::cg_max_iterations,
                "conjugate-gradient iterations per step, at most"},
          Field{"cg_tolerance", &Options::cg_tolerance,
                "CG stops once its residual is this fraction of the gradient's norm"},
          Field{"cg_progress_tolerance", &Options::cg_progress_tolerance,
                "Martens' relative-progress stop for CG (0: off)"},
          Field{"warm_start_decay", &Options::warm_start_decay,
                "CG starts from the previous step's solution times this (0: from zero)"},
          Field{"preconditioner", &Options::preconditioner,
                "CG's diagonal preconditioner: hutchinson (a running estimate of the "
                "curvature's diagonal), squared_gradient or none"},
          Field{"preconditioner_exponent", &Options::preconditioner_exponent,
                "the preconditioner is (|diagonal| + lambda)^exponent"},
          Field{"diagonal_decay", &Options::diagonal_decay,
                "decay of the running diagonal estimate"},
          Field{"backtrack", &Options::backtrack,
                "try earlier CG iterates while they give a lower loss"},
          Field{"line_search", &Options::line_search,
                "shrink the step by 0.8 until the loss decreases enough (Armijo)"},
          Field{"seed", &Options::seed, "seeds the Hutchinson estimator's draws"}};
    }
    void validate() const;
  };

  HessianFree(std::string name, std::vector<OptionSpec> specs, NamedTensors params,
              const OptionMap& options);

  using Optimizer::step;
  // One step from a closure that returns the model's outputs with the loss: what Gauss-Newton
  // curvature needs (Hessian curvature takes it too).
  StepResult step(const OutputsClosure& closure);

 protected:
  void validate(const OptionMap& options) const override;
  bool drives_closure() const override { return true; }
  ClosureStep closure_step(const Closure& closure) override;

 private:
  // The parameters with a gradient now, each counted as taking part in this step.
  Participants participants();

  // Set while step(OutputsClosure) runs: the closure, and what its last call returned.
  const OutputsClosure* outputs_closure_ = nullptr;
  ModelOutputs last_outputs_;
  // Whether the wrapped outputs closure should skip backward (Gauss-Newton evaluations and
  // loss-only trials).
  bool forward_only_ = false;
};

}  // namespace nabla::optim
