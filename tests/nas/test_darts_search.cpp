// DARTS's bilevel search: the second-order Hessian-vector term by central differences against
// the exact one by double backward, and a few rounds of either order training the supernet.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "core/creation.h"
#include "core/generator.h"
#include "hpo/nas/darts_search.h"
#include "nn/loss.h"

using namespace nabla;
using namespace nabla::hpo::nas;

namespace {

DartsOptions tiny() { return {.channels = 2, .layers = 3, .steps = 2, .num_classes = 3}; }

}  // namespace

TEST_CASE("darts search: the Hessian-vector term matches double backward in float64") {
  manual_seed(6);
  DartsNetwork net(tiny());
  net.to(kFloat64);
  Tensor x = randn({4, 3, 8, 8}, {.dtype = kFloat64});
  Tensor y = from_vector<int64_t>({0, 1, 2, 1});
  const std::vector<Tensor> w = net.weight_parameters(), alpha = net.architecture_parameters();
  std::vector<Tensor> v;
  for (const Tensor& p : w) v.push_back(randn(p.shape(), {.dtype = kFloat64}));

  // A step of 1e-6 / |v| keeps clear of the ReLUs' and max pools' kinks, which the default
  // 0.01 / |v| (DARTS's choice, for float32) crosses here.
  DartsSearch search(net, {.fd_scale = 1e-6});
  std::vector<std::vector<double>> before;
  for (const Tensor& p : w) before.push_back(p.to_vector<double>());
  const std::vector<Tensor> approx = search.hessian_vector_product(x, y, v);
  // The weights are back where they were, exactly.
  for (size_t i = 0; i < w.size(); ++i) CHECK(w[i].to_vector<double>() == before[i]);
  // Exact: d/d alpha of <grad_w L, v>.
  const std::vector<Tensor> gw =
      autograd::grad({nn::cross_entropy(net(x), y)}, w, {}, {.create_graph = true});
  Tensor inner = zeros({}, {.dtype = kFloat64});
  for (size_t i = 0; i < w.size(); ++i) inner = add(inner, sum(mul(gw[i], v[i])));
  const std::vector<Tensor> exact = autograd::grad({inner}, alpha);
  for (size_t i = 0; i < alpha.size(); ++i) {
    const std::vector<double> a = approx[i].to_vector<double>(), e = exact[i].to_vector<double>();
    double largest = 0, worst = 0;
    for (size_t k = 0; k < e.size(); ++k) {
      largest = std::max(largest, std::abs(e[k]));
      worst = std::max(worst, std::abs(a[k] - e[k]));
    }
    CAPTURE(i);
    CAPTURE(worst);
    CHECK(largest > 0);
    CHECK(worst <= 1e-5 * largest);
  }
}

TEST_CASE("darts search: first and second order rounds train the weights and move alpha") {
  for (DartsOrder order : {DartsOrder::first, DartsOrder::second}) {
    const std::string label = order == DartsOrder::first ? "first order" : "second order";
    CAPTURE(label);
    manual_seed(7);
    DartsNetwork net(tiny());
    Tensor train_x = randn({8, 3, 8, 8}), val_x = randn({8, 3, 8, 8});
    Tensor train_y = from_vector<int64_t>({0, 1, 2, 0, 1, 2, 0, 1});
    Tensor val_y = from_vector<int64_t>({2, 1, 0, 2, 1, 0, 2, 1});
    const std::vector<double> alpha_before = net.architecture_parameters()[0].to_vector<double>();
    DartsSearch search(net, {.weight_lr = 0.05, .arch_lr = 3e-3, .order = order});
    const double first = search.step(train_x, train_y, val_x, val_y).train_loss;
    double last = first;
    for (int i = 0; i < 15; ++i) last = search.step(train_x, train_y, val_x, val_y).train_loss;
    CAPTURE(first);
    CAPTURE(last);
    CHECK(std::isfinite(last));
    CHECK(last < 0.7 * first);
    const std::vector<double> alpha_after = net.architecture_parameters()[0].to_vector<double>();
    double moved = 0;
    for (size_t k = 0; k < alpha_after.size(); ++k)
      moved = std::max(moved, std::abs(alpha_after[k] - alpha_before[k]));
    CHECK(moved > 1e-3);
  }
}
