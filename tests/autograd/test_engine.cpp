// The backward engine: accumulation, retained and freed graphs, grad mode, hooks, the version
// counter, autograd::grad with create_graph, Hessian-vector products, and the DOT dump.
#include <doctest/doctest.h>

#include <cmath>

#include "nabla.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::testing;

TEST_CASE("backward: gradients of a small expression match hand derivation") {
  // f = sum(x * y + x^2), df/dx = y + 2x, df/dy = x
  Tensor x = from_vector<float>({1, 2, 3}).requires_grad_();
  Tensor y = from_vector<float>({4, 5, 6}).requires_grad_();
  backward(sum(x * y + x * x));
  check_close(x.grad(), {6, 9, 12});
  check_close(y.grad(), {1, 2, 3});
}

TEST_CASE("backward: gradients accumulate across calls until zeroed") {
  Tensor x = from_vector<float>({1, 2}).requires_grad_();
  backward(sum(x * 3.0));
  backward(sum(x * 3.0));
  check_close(x.grad(), {6, 6});
  zero_grad({x});
  CHECK_FALSE(x.grad().defined());
  backward(sum(x * 3.0));
  zero_grad({x}, /*set_to_none=*/false);
  check_close(x.grad(), {0, 0});
}

TEST_CASE("backward: a leaf used twice gets the sum of both paths") {
  Tensor x = from_vector<double>({2.0}).requires_grad_();
  Tensor y = x * x * x;  // dy/dx = 3x^2 = 12
  backward(sum(y + x));  // + 1
  check_close(x.grad(), {13});
}

TEST_CASE("backward: non-scalar roots need an explicit gradient") {
  Tensor x = from_vector<float>({1, 2}).requires_grad_();
  Tensor y = x * 2.0;
  CHECK_THROWS_AS(backward(y), AutogradError);
  backward(y, from_vector<float>({1, 10}));
  check_close(x.grad(), {2, 20});
  CHECK_THROWS_AS(backward(y, from_vector<float>({1, 2, 3})), ShapeError);
}

TEST_CASE("backward: a second pass through a freed graph is an error, retain_graph allows it") {
  Tensor x = from_vector<float>({1, 2}).requires_grad_();
  Tensor loss = sum(exp(x));
  backward(loss, Tensor(), /*retain_graph=*/true);
  backward(loss);
  check_close(x.grad(), {2 * std::exp(1.0), 2 * std::exp(2.0)});
  CHECK_THROWS_AS(backward(loss), AutogradError);
}

TEST_CASE("backward: a tensor without requires_grad cannot be backpropagated") {
  Tensor x = ones({2});
  CHECK_THROWS_AS(backward(sum(x)), AutogradError);
}

TEST_CASE("NoGradGuard: ops record nothing inside the scope") {
  Tensor x = ones({2}).requires_grad_();
  {
    NoGradGuard no_grad;
    Tensor y = x * 2.0;
    CHECK_FALSE(y.requires_grad());
    CHECK_FALSE(GradMode::is_enabled());
  }
  CHECK(GradMode::is_enabled());
  CHECK((x * 2.0).requires_grad());
}

TEST_CASE("detach: shares data, leaves the graph") {
  Tensor x = from_vector<float>({1, 2}).requires_grad_();
  Tensor y = x * 2.0;
  Tensor d = detach(y);
  CHECK_FALSE(d.requires_grad());
  CHECK(d.is_leaf());
  CHECK(d.storage() == y.storage());
  backward(sum(y * d));  // d acts as a constant: d(sum(2x * 2x_const))/dx = 2 * d = 4x
  check_close(x.grad(), {4, 8});
}

TEST_CASE("in-place change of a saved tensor is caught at backward") {
  Tensor x = from_vector<float>({1, 2}).requires_grad_();
  Tensor y = x * 1.0;
  Tensor z = exp(y);  // saves its output
  Tensor w = y * y;   // saves y
  {
    NoGradGuard no_grad;
    add_(detach(y), 1.0);  // y's storage changes: version 0 -> 1
  }
  CHECK_THROWS_WITH_AS(backward(sum(w)), doctest::Contains("modified in place"), AutogradError);
  (void)z;
}

TEST_CASE("in-place ops on tensors that require grad are refused in grad mode") {
  Tensor x = ones({2}).requires_grad_();
  CHECK_THROWS_AS(add_(x, 1.0), AutogradError);
  NoGradGuard no_grad;
  add_(x, 1.0);
  check_close(x, {2, 2});
}

TEST_CASE("hooks: see and replace gradients of leaves and intermediate tensors") {
  Tensor x = from_vector<float>({1, 2}).requires_grad_();
  Tensor y = x * 3.0;
  Tensor seen;
  register_hook(y, [&](const Tensor& g) {
    seen = g;
    return g * 2.0;  // doubles what flows on to x
  });
  register_hook(x, [](const Tensor& g) { return g + 1.0; });
  backward(sum(y));
  check_close(seen, {1, 1});
  check_close(x.grad(), {7, 7});  // (1 * 2) * 3 + 1
}

TEST_CASE("retain_grad keeps an intermediate tensor's gradient") {
  Tensor x = from_vector<float>({1, 2}).requires_grad_();
  Tensor y = x * x;
  retain_grad(y);
  backward(sum(y * 4.0));
  check_close(y.grad(), {4, 4});
  check_close(x.grad(), {8, 16});
}

TEST_CASE("autograd::grad: returns gradients without touching grad()") {
  Tensor x = from_vector<double>({1, 2, 3}).requires_grad_();
  Tensor y = sum(x * x);
  std::vector<Tensor> g = autograd::grad({y}, {x});
  check_close(g[0], {2, 4, 6});
  CHECK_FALSE(x.grad().defined());
}

TEST_CASE("autograd::grad: with respect to an intermediate tensor") {
  Tensor x = from_vector<double>({1, 2}).requires_grad_();
  Tensor h = x * 3.0;
  Tensor y = sum(h * h);
  std::vector<Tensor> g = autograd::grad({y}, {h});
  check_close(g[0], {6, 12});  // 2h
}

TEST_CASE("autograd::grad: unused inputs are an error unless allowed") {
  Tensor x = ones({2}).requires_grad_();
  Tensor unused = ones({2}).requires_grad_();
  Tensor y = sum(x);
  CHECK_THROWS_AS(autograd::grad({y}, {x, unused}, {}, {.retain_graph = true}), AutogradError);
  std::vector<Tensor> g = autograd::grad({y}, {x, unused}, {}, {.allow_unused = true});
  CHECK(g[0].defined());
  CHECK_FALSE(g[1].defined());
}

TEST_CASE("create_graph: second and third derivatives of x^4") {
  Tensor x = from_vector<double>({2.0}).requires_grad_();
  Tensor y = pow(x, 4.0);
  Tensor d1 = autograd::grad({y}, {x}, {}, {.create_graph = true})[0];   // 4x^3 = 32
  Tensor d2 = autograd::grad({d1}, {x}, {}, {.create_graph = true})[0];  // 12x^2 = 48
  Tensor d3 = autograd::grad({d2}, {x})[0];                              // 24x = 48
  check_close(d1, {32});
  check_close(d2, {48});
  check_close(d3, {48});
}

TEST_CASE("backward with create_graph makes grad() differentiable") {
  Tensor x = from_vector<double>({1.5}).requires_grad_();
  backward(sum(sin(x)), Tensor(), false, /*create_graph=*/true);
  Tensor g = x.grad();  // cos(x), with a graph
  CHECK(g.requires_grad());
  Tensor gg = autograd::grad({sum(g)}, {x})[0];
  check_close(gg, {-std::sin(1.5)});
  x.set_grad(Tensor());  // x -> grad -> its graph -> x is a reference cycle; break it
}

TEST_CASE("hvp: matches the analytic Hessian of a quadratic and of a nonlinear function") {
  // f(w) = 1/2 w^T A w with symmetric A: H = A.
  Tensor a = from_vector<double>({2, 1, 0, 1, 3, 1, 0, 1, 4}, {3, 3});
  Tensor w = from_vector<double>({1, -1, 2}, {3, 1});
  Tensor v = from_vector<double>({0.5, 1, -1}, {3, 1});
  auto quadratic = [&](const std::vector<Tensor>& p) {
    return mul(sum(mul(p[0], matmul(a, p[0]))), 0.5);
  };
  autograd::HvpResult r = autograd::hvp(quadratic, {w}, {v});
  check_close(r.hvp[0], values(matmul(a, v)));
  check_close(r.value, {7.5});  // A w = [1, 0, 7], w . A w = 15

  // f(x) = sum(exp(x)): H = diag(exp(x)).
  Tensor x = from_vector<double>({0.1, -0.2});
  Tensor u = from_vector<double>({1, 2});
  autograd::HvpResult e =
      autograd::hvp([](const std::vector<Tensor>& p) { return sum(exp(p[0])); }, {x}, {u});
  check_close(e.hvp[0], {std::exp(0.1), 2 * std::exp(-0.2)});
}

TEST_CASE("gradients keep the dtype of their input through mixed-precision ops") {
  Tensor a = ones({2}, {.dtype = kFloat32}).requires_grad_();
  Tensor b = ones({2}, {.dtype = kFloat64}).requires_grad_();
  Tensor y = a * b;
  CHECK(y.dtype() == kFloat64);
  backward(sum(y));
  CHECK(a.grad().dtype() == kFloat32);
  CHECK(b.grad().dtype() == kFloat64);
  Tensor c = ones({2}).requires_grad_();
  backward(sum(to(c, kFloat64)));
  CHECK(c.grad().dtype() == kFloat32);
}

TEST_CASE("a gradient shared by two leaves is not aliased between them") {
  Tensor a = ones({2}).requires_grad_();
  Tensor b = ones({2}).requires_grad_();
  backward(sum(a + b));  // add's rule hands the same gradient to both
  {
    NoGradGuard no_grad;
    mul_(a.grad(), 10.0);
  }
  check_close(a.grad(), {10, 10});
  check_close(b.grad(), {1, 1});
}

TEST_CASE("to_dot: names each op, leaf and shape of the graph") {
  Tensor w = ones({3, 2}).requires_grad_();
  Tensor y = sum(relu(matmul(ones({4, 3}), w)));
  std::string dot = autograd::to_dot(y);
  CHECK(dot.find("digraph") == 0);
  CHECK(dot.find("matmul\\n[4, 2]") != std::string::npos);
  CHECK(dot.find("relu") != std::string::npos);
  CHECK(dot.find("leaf\\n[3, 2]") != std::string::npos);
  CHECK(dot.find("-> output") != std::string::npos);
}

TEST_CASE("requires_grad_: only floating leaves") {
  CHECK_THROWS_AS(zeros({2}, {.dtype = kInt64}).requires_grad_(), DTypeError);
  Tensor x = ones({2}).requires_grad_();
  CHECK_THROWS_AS((x * 2.0).requires_grad_(false), ValueError);
  CHECK(zeros({2}, {.requires_grad = true}).requires_grad());
}
