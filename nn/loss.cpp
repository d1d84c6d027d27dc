// Loss functions, composed from differentiable ops so that they can be differentiated twice.
#include "nn/loss.h"

#include "autograd/ops/elementwise.h"
#include "autograd/ops/indexing.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/views.h"
#include "core/creation.h"
#include "core/error.h"
#include "nn/activation.h"

namespace nabla::nn {
namespace {

Tensor reduce(const Tensor& loss, Reduction reduction, const char* op) {
  NABLA_CHECK(reduction != Reduction::batchmean, ValueError, op,
              ": reduction batchmean is only for kl_div");
  if (reduction == Reduction::none) return loss;
  return reduction == Reduction::sum ? sum(loss) : mean(loss);
}

void check_same_shape(const char* op, const Tensor& input, const Tensor& target) {
  NABLA_CHECK(input.shape() == target.shape(), ShapeError, op, ": input ", input.shape(),
              " and target ", target.shape(), " must have the same shape");
}

// Scores [N, C, d...] as rows [M, C] with C last, and the shape [N, d...] of one row each.
std::pair<Tensor, Shape> class_rows(const Tensor& scores, const char* op) {
  NABLA_CHECK(scores.dim() >= 2, ShapeError, op, ": input must be [N, C] or [N, C, d...], got ",
              scores.shape());
  Shape row_shape = scores.shape();
  row_shape.erase(row_shape.begin() + 1);
  if (scores.dim() == 2) return {scores, row_shape};
  std::vector<int64_t> order{0};
  for (int64_t d = 2; d < scores.dim(); ++d) order.push_back(d);
  order.push_back(1);
  return {reshape(permute(scores, order), {-1, scores.size(1)}), row_shape};
}

// The pieces both NLL and cross-entropy need from log-probabilities [M, C] and class indices.
struct Picked {
  Tensor nll;     // [M]: -log p[target], 0 where ignored
  Tensor weight;  // [M]: the target's class weight (1 without weights), 0 where ignored
  Tensor valid;   // [M]: 1 where not ignored, in the scores' dtype
};

Picked pick(const char* op, const Tensor& log_probs, const Tensor& target, const Shape& row_shape,
            const Tensor& class_weight, int64_t ignore_index) {
  NABLA_CHECK(target.dtype() == kInt64, DTypeError, op, ": class-index targets must be int64, got ",
              target.dtype());
  NABLA_CHECK(target.shape() == row_shape, ShapeError, op, ": target ", target.shape(),
              " does not match the input's ", row_shape,
              " (input rows with the class dim removed)");
  const int64_t classes = log_probs.size(1);
  if (class_weight.defined()) {
    NABLA_CHECK(class_weight.dim() == 1 && class_weight.size(0) == classes, ShapeError, op,
                ": weight ", class_weight.shape(), " must be [", classes, "]");
  }
  Tensor flat = reshape(target, {-1});
  Tensor keep = ne(flat, double(ignore_index));
  Tensor index = mul(flat, to(keep, kInt64));  // ignored rows read class 0, then count nothing
  NABLA_CHECK(numel(flat.shape()) == 0 ||
                  (amin(index).item<int64_t>() >= 0 && amax(index).item<int64_t>() < classes),
              IndexError, op, ": targets must be in [0, ", classes, ") or ", ignore_index);
  Picked out;
  out.valid = to(keep, log_probs.dtype());
  Tensor logp = squeeze(gather(log_probs, 1, unsqueeze(index, 1)), 1);
  out.weight =
      class_weight.defined() ? mul(index_select(class_weight, 0, index), out.valid) : out.valid;
  out.nll = mul(neg(logp), out.weight);
  return out;
}

// Sums, or divides by the total weight as PyTorch's mean over class-index targets does.
Tensor reduce_weighted(const Tensor& loss, const Tensor& weight, const Shape& row_shape,
                       Reduction reduction, const char* op) {
  NABLA_CHECK(reduction != Reduction::batchmean, ValueError, op,
              ": reduction batchmean is only for kl_div");
  if (reduction == Reduction::none) return reshape(loss, row_shape);
  if (reduction == Reduction::sum) return sum(loss);
  return div(sum(loss), sum(weight));
}

}  // namespace

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const NllOptions& options) {
  auto [rows, row_shape] = class_rows(log_probs, "nll_loss");
  Picked picked = pick("nll_loss", rows, target, row_shape, options.weight, options.ignore_index);
  return reduce_weighted(picked.nll, picked.weight, row_shape, options.reduction, "nll_loss");
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target,
                     const CrossEntropyOptions& options) {
  const char* op = "cross_entropy";
  NABLA_CHECK(options.label_smoothing >= 0 && options.label_smoothing <= 1, ValueError, op,
              ": label_smoothing must be in [0, 1], got ", options.label_smoothing);
  auto [rows, row_shape] = class_rows(logits, op);
  const int64_t classes = rows.size(1);
  const double eps = options.label_smoothing;
  Tensor log_probs = log_softmax(rows, 1);  // [M, C]
  Tensor weighted_log_probs = options.weight.defined() ? mul(log_probs, options.weight) : log_probs;

  if (is_floating(target.dtype())) {
    // Class probabilities: -sum_c w_c t_c log p_c, with t smoothed towards uniform.
    auto [target_rows, target_shape] = class_rows(target, op);
    NABLA_CHECK(target.shape() == logits.shape(), ShapeError, op, ": probability target ",
                target.shape(), " must have the logits' shape ", logits.shape());
    Tensor smoothed = eps > 0 ? add(mul(target_rows, 1 - eps), eps / double(classes)) : target_rows;
    Tensor loss = neg(sum(mul(weighted_log_probs, smoothed), {1}));
    if (options.reduction == Reduction::none) return reshape(loss, row_shape);
    return reduce(loss, options.reduction, op);
  }

  Picked picked = pick(op, log_probs, target, row_shape, options.weight, options.ignore_index);
  Tensor loss = picked.nll;
  if (eps > 0) {
    // Smoothing term: -sum_c w_c log p_c over every class, for the non-ignored rows.
    Tensor smooth = mul(neg(sum(weighted_log_probs, {1})), picked.valid);
    loss = add(mul(loss, 1 - eps), mul(smooth, eps / double(classes)));
  }
  return reduce_weighted(loss, picked.weight, row_shape, options.reduction, op);
}

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_same_shape("mse_loss", input, target);
  return reduce(square(sub(input, target)), reduction, "mse_loss");
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_same_shape("l1_loss", input, target);
  return reduce(abs(sub(input, target)), reduction, "l1_loss");
}

Tensor huber_loss(const Tensor& input, const Tensor& target, double delta, Reduction reduction) {
  check_same_shape("huber_loss", input, target);
  NABLA_CHECK(delta > 0, ValueError, "huber_loss: delta must be positive, got ", delta);
  Tensor diff = sub(input, target);
  Tensor magnitude = abs(diff);
  Tensor loss =
      where(le(magnitude, delta), mul(square(diff), 0.5), mul(sub(magnitude, 0.5 * delta), delta));
  return reduce(loss, reduction, "huber_loss");
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, double beta, Reduction reduction) {
  check_same_shape("smooth_l1_loss", input, target);
  NABLA_CHECK(beta >= 0, ValueError, "smooth_l1_loss: beta must be non-negative, got ", beta);
  if (beta == 0) return l1_loss(input, target, reduction);
  Tensor diff = sub(input, target);
  Tensor magnitude = abs(diff);
  Tensor loss =
      where(lt(magnitude, beta), mul(square(diff), 0.5 / beta), sub(magnitude, 0.5 * beta));
  return reduce(loss, reduction, "smooth_l1_loss");
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        const BceWithLogitsOptions& options) {
  check_same_shape("binary_cross_entropy_with_logits", logits, target);
  // -[pw y log s(x) + (1 - y) log(1 - s(x))] = (1 - y) x + (1 + (pw - 1) y) softplus(-x)
  Tensor log_weight = options.pos_weight.defined()
                          ? add(mul(sub(options.pos_weight, 1.0), target), 1.0)
                          : ones_like(target);
  Tensor loss = add(mul(sub(1.0, target), logits), mul(log_weight, softplus(neg(logits))));
  if (options.weight.defined()) loss = mul(loss, options.weight);
  return reduce(loss, options.reduction, "binary_cross_entropy_with_logits");
}

Tensor kl_div(const Tensor& input, const Tensor& target, Reduction reduction, bool log_target) {
  check_same_shape("kl_div", input, target);
  Tensor loss;
  if (log_target) {
    loss = mul(exp(target), sub(target, input));
  } else {
    // t log t is taken as 0 at t = 0; the log reads 1 there so that no NaN reaches the gradient.
    Tensor positive = gt(target, 0.0);
    Tensor log_t = log(where(positive, target, 1.0));
    loss = mul(target, sub(log_t, input));
  }
  if (reduction == Reduction::batchmean) {
    NABLA_CHECK(input.dim() >= 1, ShapeError, "kl_div: batchmean needs a batch dim, got ",
                input.shape());
    return div(sum(loss), double(input.size(0)));
  }
  return reduce(loss, reduction, "kl_div");
}

namespace {

// sum over the parameters of sum(term(p)), on the parameters' own device and dtype.
template <class Term>
Tensor penalty(const std::vector<Tensor>& parameters, Term term) {
  if (parameters.empty()) return zeros({});
  Tensor total = sum(term(parameters.front()));
  for (size_t i = 1; i < parameters.size(); ++i) total = add(total, sum(term(parameters[i])));
  return total;
}

}  // namespace

Tensor l1_penalty(const std::vector<Tensor>& parameters) {
  return penalty(parameters, [](const Tensor& p) { return abs(p); });
}

Tensor l2_penalty(const std::vector<Tensor>& parameters) {
  return penalty(parameters, [](const Tensor& p) { return square(p); });
}

}  // namespace nabla::nn
