// DARTS's bilevel search (Liu et al., 2019): the supernet's weights w descend the training loss,
// its architecture parameters alpha the validation loss, in alternation. The first-order form
// takes alpha's gradient at the current w; the second-order form at w' = w - xi grad_w L_train,
// one virtual SGD step ahead, which adds the term -xi (d^2 L_train / d alpha d w) v with
// v = grad_w' L_val(w', alpha), computed by central differences of grad_alpha L_train (DARTS's
// equation 8) so that no second derivative is needed.
#pragma once

#include <memory>
#include <vector>

#include "hpo/nas/darts_space.h"
#include "optim/optimizer.h"

namespace nabla::hpo::nas {

enum class DartsOrder { first, second };

struct DartsSearchOptions {
  // The weights: SGD with momentum, as in DARTS.
  double weight_lr = 0.025, weight_momentum = 0.9, weight_decay = 3e-4, grad_clip = 5;
  // The architecture: Adam with beta1 0.5.
  double arch_lr = 3e-4, arch_weight_decay = 1e-3;
  DartsOrder order = DartsOrder::first;
  // The central differences step is fd_scale / |v| (DARTS's 0.01). The estimate is exact only
  // where no ReLU or max pool changes its choice within the step.
  double fd_scale = 0.01;
};

struct DartsStepResult {
  double train_loss = 0, val_loss = 0;  // before the step
};

class DartsSearch {
 public:
  DartsSearch(DartsNetwork& net, DartsSearchOptions options = {});

  // One round: alpha's step on the validation batch, then w's step on the training batch.
  DartsStepResult step(const Tensor& train_x, const Tensor& train_y, const Tensor& val_x,
                       const Tensor& val_y);

  // What step uses for alpha: grad_alpha L_val at w (first order) or at w' with the Hessian term
  // (second order). Leaves the network's weights as they were.
  std::vector<Tensor> architecture_gradient(const Tensor& train_x, const Tensor& train_y,
                                            const Tensor& val_x, const Tensor& val_y);
  // (d^2 L_train / d alpha d w) v by central differences: [grad_alpha L(w + eps v) -
  // grad_alpha L(w - eps v)] / (2 eps), eps = fd_scale / |v|. v has one tensor per weight
  // parameter (DartsNetwork::weight_parameters' order).
  std::vector<Tensor> hessian_vector_product(const Tensor& x, const Tensor& y,
                                             const std::vector<Tensor>& v);

 private:
  // grad_alpha L_val at the current weights, and the loss itself into `val_loss` when given.
  std::vector<Tensor> first_order_gradient(const Tensor& val_x, const Tensor& val_y,
                                           double* val_loss);

  DartsNetwork& net_;
  DartsSearchOptions options_;
  std::unique_ptr<optim::Optimizer> weight_optimizer_, arch_optimizer_;
};

}  // namespace nabla::hpo::nas
