// Proximal gradient descent for L1 (Lasso) and group-lasso penalties: a gradient step on the
// smooth loss, then the penalty's proximal map (soft-thresholding, then group shrinkage).
#include "optim/rule.h"

#include "autograd/ops/views.h"

namespace nabla::optim {
namespace {

struct Proximal {
  struct Options {
    double lr = 1e-2;
    double l1 = 0;
    double group_lasso = 0;
    double weight_decay = 0;

    static auto fields() {
      return std::tuple{
          Field{"lr", &Options::lr, "learning rate"},
          Field{"l1", &Options::l1, "lambda of l1 * sum |w|"},
          Field{"group_lasso", &Options::group_lasso,
                "lambda of lambda * sum_g |w_g|, the groups being the slices along dim 0"},
          Field{"weight_decay", &Options::weight_decay, "L2 penalty added to the gradient"}};
    }
    void validate() const {
      check_at_least("proximal", "lr", lr, 0);
      check_at_least("proximal", "l1", l1, 0);
      check_at_least("proximal", "group_lasso", group_lasso, 0);
      check_at_least("proximal", "weight_decay", weight_decay, 0);
    }
  };

  static void update(const Tensor& param, const Tensor& grad, State& /*state*/, const Options& o,
                     int64_t /*step*/) {
    Tensor g = o.weight_decay != 0 ? grad + o.weight_decay * param : grad;
    add_(param, g, -o.lr);
    double l1 = o.lr * o.l1;
    if (l1 > 0) copy_(param, sign(param) * relu(abs(param) - l1));  // soft-thresholding
    double group = o.lr * o.group_lasso;
    if (group > 0) {
      // Each slice along dim 0 (a row: one output unit's weights) shrinks towards 0 by `group`
      // in norm, and becomes exactly 0 when its norm is below it; a 0-d or 1-d tensor is one
      // group.
      Tensor rows = reshape(param, {param.dim() >= 2 ? param.size(0) : 1, -1});
      Tensor scale = relu(1.0 - group / norm(rows, 2, {1}, /*keepdim=*/true));
      copy_(param, reshape(rows * scale, param.shape()));
    }
  }
};

}  // namespace

void register_proximal(OptimizerRegistry& registry) {
  register_rule<Proximal>(registry, "proximal", "proximal gradient for L1 and group lasso",
                          Family::gradient);
}

}  // namespace nabla::optim
