// The unrolled objective: a linear softmax classifier trained for T full-batch gradient steps
// with L2 weight decay lambda, and its validation loss as a differentiable function of
// log lambda, with that function's derivative (the hypergradient).
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace nabla::hypergradient {

// Feature rows and their labels.
struct Split {
  Tensor x;  // [N, D] float32 or float64
  Tensor y;  // [N] int64 in 0..classes-1
};

// What the inner training sees: T steps of gradient descent on the training split from zero
// weights, judged by the cross-entropy on the validation split. The splits' dtype is the dtype of
// every computation.
struct InnerProblem {
  Split train;
  Split val;
  int64_t classes = 10;
  int64_t steps = 100;  // T
  double lr = 0.1;      // of the inner steps
};

struct Weights {
  Tensor w;  // [D, C]
  Tensor b;  // [C]
};

// x [N, D] -> logits [N, C].
Tensor logits(const Weights& weights, const Tensor& x);
double cross_entropy(const Weights& weights, const Split& split);
double accuracy(const Weights& weights, const Split& split);  // percent

// The weights after T steps from zero of
//   w <- w - lr (dL/dw + exp(log_lambda) w),   b <- b - lr dL/db   (the bias is not decayed)
// with L the training cross-entropy. `log_lambda` is a 0-d tensor of the splits' dtype. When it
// requires grad, every step's gradient is itself recorded (create_graph), so the weights returned
// are differentiable functions of log_lambda through all T updates; otherwise each step is
// detached from the last and nothing is kept.
Weights train(const InnerProblem& problem, const Tensor& log_lambda);

// The validation cross-entropy of train(problem, log_lambda): a 0-d tensor, differentiable in
// log_lambda when it requires grad.
Tensor unrolled_validation_loss(const InnerProblem& problem, const Tensor& log_lambda);

struct Hypergradient {
  double val_loss = 0;
  double d_log_lambda = 0;  // d(val_loss) / d(log lambda)
};

// The validation loss at log_lambda and its derivative, by one reverse pass through the
// validation loss and every unrolled step.
Hypergradient unrolled_hypergradient(const InnerProblem& problem, double log_lambda);

}  // namespace nabla::hypergradient
