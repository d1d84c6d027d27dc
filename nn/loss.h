// Loss functions with PyTorch's semantics, and L1/L2 penalties over a module's parameters.
#pragma once

#include "nn/module.h"

namespace nabla::nn {

// How per-element losses become the result. batchmean (the sum divided by the batch size) is
// valid for kl_div only, where it is the mathematically correct KL divergence.
enum class Reduction { none, mean, sum, batchmean };

struct CrossEntropyOptions {
  Tensor weight{};              // [C] per-class weights, or undefined
  int64_t ignore_index = -100;  // targets with this class contribute nothing
  double label_smoothing = 0;   // in [0, 1]: mixes the target with the uniform distribution
  Reduction reduction = Reduction::mean;
};

// Cross-entropy from logits [N, C] (or [N, C, d...]) and either int64 class indices [N] (or
// [N, d...]) or class probabilities of the logits' shape. With class indices and weights, the
// mean divides by the total weight of the non-ignored targets, as PyTorch does.
Tensor cross_entropy(const Tensor& logits, const Tensor& target,
                     const CrossEntropyOptions& options = {});

struct NllOptions {
  Tensor weight{};
  int64_t ignore_index = -100;
  Reduction reduction = Reduction::mean;
};

// Negative log-likelihood from log-probabilities [N, C] (or [N, C, d...]) and class indices.
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const NllOptions& options = {});

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::mean);
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::mean);
// Quadratic within delta of the target, linear beyond (slope delta).
Tensor huber_loss(const Tensor& input, const Tensor& target, double delta = 1.0,
                  Reduction reduction = Reduction::mean);
// Huber divided by beta: quadratic within beta, linear beyond with slope 1.
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, double beta = 1.0,
                      Reduction reduction = Reduction::mean);

struct BceWithLogitsOptions {
  Tensor weight{};      // broadcast to the loss: per-element rescaling
  Tensor pos_weight{};  // broadcast along the last dim: weight of the positive class
  Reduction reduction = Reduction::mean;
};

// Binary cross-entropy of sigmoid(logits) against targets in [0, 1], computed stably.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        const BceWithLogitsOptions& options = {});

// KL(target || input) with input given as log-probabilities; the target as probabilities, or
// as log-probabilities with log_target.
Tensor kl_div(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::mean,
              bool log_target = false);

// sum |p| and sum p^2 over the parameters (for weight penalties added to a loss).
Tensor l1_penalty(const std::vector<Tensor>& parameters);
Tensor l2_penalty(const std::vector<Tensor>& parameters);
inline Tensor l1_penalty(const Module& module) { return l1_penalty(module.parameters()); }
inline Tensor l2_penalty(const Module& module) { return l2_penalty(module.parameters()); }

}  // namespace nabla::nn
