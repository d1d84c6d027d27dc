// The unrolled inner training and its hypergradient (unrolled.h).
#include "unrolled.h"

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "core/creation.h"
#include "core/error.h"
#include "nn/loss.h"

namespace nabla::hypergradient {

Tensor logits(const Weights& weights, const Tensor& x) {
  return matmul(x, weights.w) + weights.b;  // [N, D] [D, C] + [C] -> [N, C]
}

double cross_entropy(const Weights& weights, const Split& split) {
  NoGradGuard no_grad;
  return nn::cross_entropy(logits(weights, split.x), split.y).item();
}

double accuracy(const Weights& weights, const Split& split) {
  NoGradGuard no_grad;
  Tensor correct = eq(argmax(logits(weights, split.x), 1), split.y);
  return 100.0 * sum(to(correct, kFloat64)).item() / double(split.y.size(0));
}

Weights train(const InnerProblem& problem, const Tensor& log_lambda) {
  NABLA_CHECK(problem.steps >= 0, ValueError, "hypergradient::train: steps must be >= 0, got ",
              problem.steps);
  const Tensor& x = problem.train.x;
  NABLA_CHECK(log_lambda.dim() == 0 && log_lambda.dtype() == x.dtype(), DTypeError,
              "hypergradient::train: log_lambda must be a 0-d tensor of the data's dtype ",
              x.dtype(), ", got shape ", log_lambda.shape(), " and dtype ", log_lambda.dtype());
  // Recording the steps is what makes the weights functions of log_lambda; without it each step
  // only needs the gradient at the current weights.
  const bool differentiable = log_lambda.requires_grad();
  const TensorOptions options{.dtype = x.dtype(), .requires_grad = true};
  Weights weights{zeros({x.size(1), problem.classes}, options), zeros({problem.classes}, options)};
  const Tensor lambda = exp(log_lambda);
  for (int64_t step = 0; step < problem.steps; ++step) {
    Tensor loss = nn::cross_entropy(logits(weights, x), problem.train.y);
    // create_graph records the backward pass: dL/dw is then a function of w, hence of every
    // earlier step and of lambda, and the next reverse pass differentiates through it.
    std::vector<Tensor> g =
        autograd::grad({loss}, {weights.w, weights.b}, {}, {.create_graph = differentiable});
    Weights next{weights.w - problem.lr * (g[0] + lambda * weights.w),
                 weights.b - problem.lr * g[1]};
    if (!differentiable) {
      next.w = detach(next.w).requires_grad_();
      next.b = detach(next.b).requires_grad_();
    }
    weights = next;
  }
  return weights;
}

Tensor unrolled_validation_loss(const InnerProblem& problem, const Tensor& log_lambda) {
  Weights weights = train(problem, log_lambda);
  return nn::cross_entropy(logits(weights, problem.val.x), problem.val.y);
}

Hypergradient unrolled_hypergradient(const InnerProblem& problem, double log_lambda) {
  Tensor h = scalar_tensor(log_lambda, {.dtype = problem.train.x.dtype(), .requires_grad = true});
  Tensor val_loss = unrolled_validation_loss(problem, h);
  Tensor d = autograd::grad({val_loss}, {h})[0];
  return {val_loss.item(), d.item()};
}

}  // namespace nabla::hypergradient
