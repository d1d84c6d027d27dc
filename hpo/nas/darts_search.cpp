// DARTS's alternating updates, first and second order.
#include "hpo/nas/darts_search.h"

#include <cmath>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/inplace.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/views.h"
#include "nn/loss.h"
#include "optim/clip.h"
#include "optim/registry.h"

namespace nabla::hpo::nas {
namespace {

double squared_norm(const std::vector<Tensor>& ts) {
  double s = 0;
  for (const Tensor& t : ts) s += sum(mul(t, t)).item<double>();
  return s;
}

// w += scale * v, in place, untracked.
void axpy(const std::vector<Tensor>& w, double scale, const std::vector<Tensor>& v) {
  NoGradGuard no_grad;
  for (size_t i = 0; i < w.size(); ++i) add_(w[i], mul(v[i], scale));
}

std::vector<Tensor> copies(const std::vector<Tensor>& ts) {
  NoGradGuard no_grad;
  std::vector<Tensor> out;
  for (const Tensor& t : ts) out.push_back(clone(t));
  return out;
}

// Exactly the saved values: adding and subtracting steps would leave rounding behind.
void restore(const std::vector<Tensor>& w, const std::vector<Tensor>& saved) {
  NoGradGuard no_grad;
  for (size_t i = 0; i < w.size(); ++i) copy_(w[i], saved[i]);
}

}  // namespace

DartsSearch::DartsSearch(DartsNetwork& net, DartsSearchOptions options)
    : net_(net), options_(options) {
  weight_optimizer_ = optim::create("sgd", net.weight_parameters(),
                                    {{"lr", options.weight_lr},
                                     {"momentum", options.weight_momentum},
                                     {"weight_decay", options.weight_decay}});
  arch_optimizer_ = optim::create("adam", net.architecture_parameters(),
                                  {{"lr", options.arch_lr},
                                   {"beta1", 0.5},
                                   {"beta2", 0.999},
                                   {"weight_decay", options.arch_weight_decay}});
}

std::vector<Tensor> DartsSearch::hessian_vector_product(const Tensor& x, const Tensor& y,
                                                        const std::vector<Tensor>& v) {
  const std::vector<Tensor> w = net_.weight_parameters(), alpha = net_.architecture_parameters();
  const double eps = options_.fd_scale / std::sqrt(squared_norm(v));
  auto alpha_grad = [&] { return autograd::grad({nn::cross_entropy(net_(x), y)}, alpha); };
  const std::vector<Tensor> saved = copies(w);
  axpy(w, eps, v);
  const std::vector<Tensor> plus = alpha_grad();
  axpy(w, -2 * eps, v);
  const std::vector<Tensor> minus = alpha_grad();
  restore(w, saved);
  std::vector<Tensor> out;
  for (size_t i = 0; i < alpha.size(); ++i)
    out.push_back(mul(sub(plus[i], minus[i]), 1 / (2 * eps)));
  return out;
}

std::vector<Tensor> DartsSearch::first_order_gradient(const Tensor& val_x, const Tensor& val_y,
                                                      double* val_loss) {
  Tensor loss = nn::cross_entropy(net_(val_x), val_y);
  if (val_loss) *val_loss = loss.item<double>();
  return autograd::grad({loss}, net_.architecture_parameters());
}

std::vector<Tensor> DartsSearch::architecture_gradient(const Tensor& train_x, const Tensor& train_y,
                                                       const Tensor& val_x, const Tensor& val_y) {
  const std::vector<Tensor> w = net_.weight_parameters(), alpha = net_.architecture_parameters();
  if (options_.order == DartsOrder::first) return first_order_gradient(val_x, val_y, nullptr);
  // w' = w - xi (grad_w L_train + weight_decay w), xi the weights' learning rate.
  const double xi = options_.weight_lr;
  const std::vector<Tensor> saved = copies(w);
  std::vector<Tensor> g = autograd::grad({nn::cross_entropy(net_(train_x), train_y)}, w);
  {
    NoGradGuard no_grad;
    for (size_t i = 0; i < w.size(); ++i)
      add_(w[i], mul(add(g[i], mul(w[i], options_.weight_decay)), -xi));
  }
  std::vector<Tensor> inputs = alpha;
  inputs.insert(inputs.end(), w.begin(), w.end());
  const std::vector<Tensor> at_unrolled =
      autograd::grad({nn::cross_entropy(net_(val_x), val_y)}, inputs);
  restore(w, saved);
  const std::vector<Tensor> v(at_unrolled.begin() + static_cast<std::ptrdiff_t>(alpha.size()),
                              at_unrolled.end());
  const std::vector<Tensor> hvp = hessian_vector_product(train_x, train_y, v);
  std::vector<Tensor> out;
  for (size_t i = 0; i < alpha.size(); ++i) out.push_back(sub(at_unrolled[i], mul(hvp[i], xi)));
  return out;
}

DartsStepResult DartsSearch::step(const Tensor& train_x, const Tensor& train_y, const Tensor& val_x,
                                  const Tensor& val_y) {
  DartsStepResult result;
  std::vector<Tensor> alpha_grad;
  if (options_.order == DartsOrder::first) {
    // The forward that gives alpha's gradient gives the validation loss too.
    alpha_grad = first_order_gradient(val_x, val_y, &result.val_loss);
  } else {
    {
      NoGradGuard no_grad;
      result.val_loss = nn::cross_entropy(net_(val_x), val_y).item<double>();
    }
    alpha_grad = architecture_gradient(train_x, train_y, val_x, val_y);
  }
  const std::vector<Tensor> alpha = net_.architecture_parameters();
  for (size_t i = 0; i < alpha.size(); ++i) alpha[i].set_grad(alpha_grad[i]);
  arch_optimizer_->step();

  Tensor loss = nn::cross_entropy(net_(train_x), train_y);
  result.train_loss = loss.item<double>();
  const std::vector<Tensor> w = net_.weight_parameters();
  const std::vector<Tensor> g = autograd::grad({loss}, w);
  for (size_t i = 0; i < w.size(); ++i) w[i].set_grad(g[i]);
  optim::clip_grad_norm(w, options_.grad_clip);
  weight_optimizer_->step();
  return result;
}

}  // namespace nabla::hpo::nas
