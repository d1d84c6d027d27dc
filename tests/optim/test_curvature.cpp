// Curvature through an ordinary closure: differentiable gradients and Hessian-vector products
// against an explicit Hessian in float64.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>

#include "autograd/engine.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/autograd_meta.h"
#include "core/tensor_impl.h"
#include "fixtures.h"
#include "optim/curvature.h"
#include "problems.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::testing;

namespace {

// f(a, b) = a0^2 a1 + exp(a1 b0) + b0^4 / 4, a [2], b [1].
Tensor small_loss(const optim::NamedTensors& p) {
  Tensor a0 = select(p[0].second, 0, 0), a1 = select(p[0].second, 0, 1);
  Tensor b0 = select(p[1].second, 0, 0);
  return square(a0) * a1 + exp(a1 * b0) + 0.25 * pow(b0, 4.0);
}

// Its Hessian over (a0, a1, b0), by hand.
std::vector<std::vector<double>> small_hessian(double a0, double a1, double b0) {
  double e = std::exp(a1 * b0);
  return {{2 * a1, 2 * a0, 0},
          {2 * a0, b0 * b0 * e, e + a1 * b0 * e},
          {0, e + a1 * b0 * e, a1 * a1 * e + 3 * b0 * b0}};
}

}  // namespace

TEST_CASE("differentiable_gradients: Hessian-vector products equal the explicit Hessian times v") {
  optim::NamedTensors p = {{"a", leaf({0.5, -0.3})}, {"b", leaf({0.7})}, {"unused", leaf({1.0})}};
  optim::Closure closure = [&] {
    Tensor loss = small_loss(p);
    backward(loss);
    return loss;
  };
  optim::DifferentiableGradients g = optim::differentiable_gradients(p, closure);
  REQUIRE(g.params.size() == 2);  // "unused" got no gradient
  CHECK(g.params[0].first == "a");
  CHECK(g.grads[0].requires_grad());
  // grad() holds the same numbers, detached: the cycle through the graph is broken.
  CHECK_FALSE(p[0].second.grad().requires_grad());
  CHECK(values(p[0].second.grad()) == values(g.grads[0]));
  double e = std::exp(-0.3 * 0.7);
  check_close(g.grads[0], {2 * 0.5 * -0.3, 0.25 + 0.7 * e}, 1e-12);

  std::vector<std::vector<double>> h = small_hessian(0.5, -0.3, 0.7);
  for (const std::vector<double>& v :
       {std::vector<double>{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0.3, -1.2, 2.5}}) {
    optim::ParamVector hv = optim::hessian_vector_product(
        g, {from_vector<double>({v[0], v[1]}), from_vector<double>({v[2]})});
    std::vector<double> expected(3, 0.0);
    for (size_t i = 0; i < 3; ++i)
      for (size_t j = 0; j < 3; ++j) expected[i] += h[i][j] * v[j];
    check_values(values(hv[0]), {expected[0], expected[1]}, 1e-12, 1e-14, "H v over a");
    check_values(values(hv[1]), {expected[2]}, 1e-12, 1e-14, "H v over b");
  }
}

TEST_CASE("differentiable_gradients: the graph is freed with the result") {
  optim::NamedTensors p = {{"a", leaf({0.5, -0.3})}, {"b", leaf({0.7})}};
  std::weak_ptr<autograd::Node> node;
  {
    optim::DifferentiableGradients g = optim::differentiable_gradients(p, [&] {
      Tensor loss = small_loss(p);
      backward(loss);
      return loss;
    });
    node = g.grads[0].impl()->autograd->grad_fn;
    CHECK_FALSE(node.expired());
  }
  CHECK(node.expired());
}

TEST_CASE("differentiable_gradients: a gradient constant in the parameters has a zero product") {
  optim::NamedTensors p = {{"w", leaf({1.0, 2.0})}};
  optim::DifferentiableGradients g = optim::differentiable_gradients(p, [&] {
    Tensor loss = sum(p[0].second * 3.0);
    backward(loss);
    return loss;
  });
  optim::ParamVector hv = optim::hessian_vector_product(g, {from_vector<double>({1.0, 1.0})});
  CHECK(values(hv[0]) == std::vector<double>{0.0, 0.0});
}
