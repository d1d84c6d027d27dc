// Shampoo: its inverse matrix roots against an eigendecomposition reference (and the coupled
// Newton iteration against both), descent on matrix and kernel problems, grafted step lengths,
// the dimension limit, the refresh interval and resuming, in float64.
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "core/ops.h"
#include "optim/matrix_root.h"
#include "optim/registry.h"
#include "optim/state_dict.h"
#include "problems.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::testing;

namespace {

// Fixed values in [-1, 1], so the tests never depend on a generator.
std::vector<double> wave(int64_t n, double phase) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = std::sin(1.7 * static_cast<double>(i) + phase);
  return v;
}

using Matrix = std::vector<std::vector<double>>;

// Q = H1 H2, a product of two Householder reflections I - 2 v v^T / v^T v: orthogonal.
Matrix orthogonal(int64_t n) {
  auto reflection = [n](const std::vector<double>& v) {
    double vv = 0;
    for (double x : v) vv += x * x;
    Matrix h(n, std::vector<double>(n));
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) h[i][j] = (i == j) - 2 * v[i] * v[j] / vv;
    return h;
  };
  Matrix a = reflection(wave(n, 0.3)), b = reflection(wave(n, 1.1)), q(n, std::vector<double>(n));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t k = 0; k < n; ++k) q[i][j] += a[i][k] * b[k][j];
  return q;
}

// Q diag(d) Q^T, flattened.
std::vector<double> from_eigen(const Matrix& q, const std::vector<double>& d) {
  const size_t n = d.size();
  std::vector<double> m(n * n);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j)
      for (size_t k = 0; k < n; ++k) m[i * n + j] += q[i][k] * d[k] * q[j][k];
  return m;
}

double max_abs_difference(const std::vector<double>& a, const std::vector<double>& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
  return worst;
}

optim::Closure closure_of(const std::function<Tensor()>& loss) {
  return [loss] {
    Tensor l = loss();
    backward(l);
    return l;
  };
}

}  // namespace

TEST_CASE("shampoo: inverse roots match the eigendecomposition, and Newton's iteration agrees") {
  const int64_t n = 6;
  Matrix q = orthogonal(n);
  // Well conditioned, ill conditioned, and singular (eps makes it invertible).
  for (const std::vector<double>& eigenvalues :
       {std::vector<double>{5, 2, 1, 0.5, 0.2, 0.1}, std::vector<double>{40, 3, 1, 0.1, 1e-2, 1e-3},
        std::vector<double>{3, 1, 0.5, 0.25, 0, 0}}) {
    for (int64_t p : {2, 4, 8}) {
      const double eps = 1e-4;
      CAPTURE(p);
      CAPTURE(eigenvalues[0]);
      std::vector<double> roots;
      for (double e : eigenvalues) roots.push_back(std::pow(e + eps, -1.0 / p));
      std::vector<double> expected = from_eigen(q, roots);
      Tensor a = from_vector<double>(from_eigen(q, eigenvalues), {n, n});
      std::vector<double> by_eigh = values(optim::inverse_root(a, p, eps, optim::RootMethod::eigh));
      std::vector<double> by_newton =
          values(optim::inverse_root(a, p, eps, optim::RootMethod::newton));
      double scale = 0;
      for (double x : expected) scale = std::max(scale, std::fabs(x));
      double eigh_error = max_abs_difference(by_eigh, expected) / scale;
      double newton_error = max_abs_difference(by_newton, expected) / scale;
      double disagreement = max_abs_difference(by_newton, by_eigh) / scale;
      MESSAGE("p ", p, ", largest eigenvalue ", eigenvalues[0], ": eigh error ", eigh_error,
              ", newton error ", newton_error);
      CHECK(eigh_error < 1e-11);
      CHECK(newton_error < 1e-10);
      CHECK(disagreement < 1e-10);
    }
  }
  CHECK(error_of([] {
          optim::inverse_root(zeros({2, 3}, {.dtype = kFloat64}), 2, 1e-6, optim::RootMethod::eigh);
        }).starts_with("inverse_root: needs a square matrix"));
}

TEST_CASE("shampoo: descends on a matrix least-squares problem with every graft and root") {
  // loss = 1/2 |X W^T - Y|^2 / 16 for W [4, 3], X [16, 3], Y = X W*^T with a fixed W*.
  Tensor x = from_vector<double>(wave(48, 0.0), {16, 3});
  Tensor target = from_vector<double>(wave(12, 2.0), {4, 3});
  Tensor y = matmul(x, transpose(target, 0, 1));
  for (std::string graft : {"adam", "sgd", "none"}) {
    for (std::string root : {"eigh", "newton"}) {
      CAPTURE(graft);
      CAPTURE(root);
      optim::NamedTensors p = {{"w", zeros({4, 3}, {.dtype = kFloat64}).requires_grad_()}};
      auto loss = [&] {
        return 0.5 * sum(square(matmul(x, transpose(p[0].second, 0, 1)) - y)) / 16;
      };
      double lr = graft == "adam" ? 0.03 : 0.1;
      auto optimizer = optim::create(
          "shampoo", p,
          {{"lr", lr}, {"graft", graft}, {"root_method", root}, {"update_interval", 5}});
      double first = loss().item();
      for (int i = 0; i < 300; ++i) optimizer->step(closure_of(loss));
      double last = loss().item();
      MESSAGE(graft, " / ", root, ": loss ", first, " -> ", last);
      CHECK(last < 1e-3 * first);
    }
  }
}

TEST_CASE("shampoo: a conv kernel is preconditioned per dimension or as a matrix") {
  // K [2, 3, 2, 2] acts as a [2, 12] matrix on 20 columns: loss = 1/2 |K X - Y|^2 / 20.
  Tensor x = from_vector<double>(wave(240, 0.5), {12, 20});
  Tensor y = from_vector<double>(wave(40, 1.5), {2, 20});
  for (bool merge : {true, false}) {
    CAPTURE(merge);
    optim::NamedTensors p = {{"k", zeros({2, 3, 2, 2}, {.dtype = kFloat64}).requires_grad_()}};
    auto loss = [&] {
      return 0.5 * sum(square(matmul(reshape(p[0].second, {2, 12}), x) - y)) / 20;
    };
    auto optimizer = optim::create("shampoo", p, {{"lr", 0.03}, {"merge_dims", merge}});
    double first = loss().item();
    for (int i = 0; i < 300; ++i) optimizer->step(closure_of(loss));
    const optim::State* state = optimizer->state("k");
    REQUIRE(state != nullptr);
    // Merged: [2, 2] and [12, 12]; per dimension: [2, 2], [3, 3], [2, 2], [2, 2].
    CHECK(state->find("preconditioner1").shape() == (merge ? Shape{12, 12} : Shape{3, 3}));
    CHECK(state->find("preconditioner3").defined() == !merge);
    double last = loss().item();
    MESSAGE("merge_dims ", merge, ": loss ", first, " -> ", last);
    CHECK(last < 1e-6 * first);
  }
}

TEST_CASE("shampoo: grafting takes the per-tensor step length of SGD or Adam") {
  // A quadratic with a different curvature per element, so the Shampoo direction and the
  // grafted method's step differ in direction as well as in length.
  Tensor curvature = from_vector<double>({1, 2, 3, 4, 5, 6, 0.5, 0.25, 8, 1.5, 2.5, 3.5}, {3, 4});
  Tensor center = from_vector<double>(wave(12, 0.7), {3, 4});
  auto loss_of = [&](const Tensor& w) { return 0.5 * sum(curvature * square(w - center)); };
  const double lr = 0.05;
  for (std::string graft : {"sgd", "adam"}) {
    CAPTURE(graft);
    optim::NamedTensors p = {{"w", zeros({3, 4}, {.dtype = kFloat64}).requires_grad_()}};
    optim::NamedTensors q = {{"w", zeros({3, 4}, {.dtype = kFloat64}).requires_grad_()}};
    auto shampoo = optim::create("shampoo", p, {{"lr", lr}, {"graft", graft}, {"momentum", 0.0}});
    // Adam without its first moment is the grafted method's step (momentum comes after grafting).
    auto reference = graft == "sgd" ? optim::create("sgd", q, {{"lr", lr}})
                                    : optim::create("adam", q, {{"lr", lr}, {"beta1", 0.0}});
    for (int step = 0; step < 5; ++step) {
      // Both start each step from the same weights, so their gradients agree.
      {
        NoGradGuard no_grad;
        copy_(q[0].second, p[0].second);
      }
      Tensor before = clone(p[0].second);
      shampoo->step(closure_of([&] { return loss_of(p[0].second); }));
      reference->step(closure_of([&] { return loss_of(q[0].second); }));
      double shampoo_length = norm(p[0].second - before).item();
      double reference_length = norm(q[0].second - before).item();
      CHECK(shampoo_length == doctest::Approx(reference_length).epsilon(1e-10));
      // Same length, another direction.
      CHECK(norm(p[0].second - q[0].second).item() > 1e-3 * reference_length);
    }
  }
}

TEST_CASE("shampoo: a dimension above max_preconditioner_dim gets a diagonal preconditioner") {
  Tensor x = from_vector<double>(wave(40 * 8, 0.2), {40, 8});
  Tensor y = from_vector<double>(wave(24, 0.9), {3, 8});
  optim::NamedTensors p = {{"w", zeros({3, 40}, {.dtype = kFloat64}).requires_grad_()}};
  auto loss = [&] { return 0.5 * sum(square(matmul(p[0].second, x) - y)); };
  auto optimizer = optim::create("shampoo", p, {{"lr", 0.03}, {"max_preconditioner_dim", 10}});
  double first = loss().item();
  for (int i = 0; i < 200; ++i) optimizer->step(closure_of(loss));
  const optim::State* state = optimizer->state("w");
  CHECK(state->find("preconditioner0").shape() == Shape{3, 3});
  CHECK(state->find("preconditioner1").shape() == Shape{40});
  CHECK(state->find("root1").shape() == Shape{40});
  CHECK(loss().item() < 1e-2 * first);
}

TEST_CASE("shampoo: roots are kept between refreshes, and resuming continues the trajectory") {
  Tensor x = from_vector<double>(wave(30, 0.1), {5, 6});
  Tensor y = from_vector<double>(wave(20, 1.3), {4, 5});
  auto make_loss = [&](const optim::NamedTensors& p) {
    return [&x, &y, p] { return 0.5 * sum(square(matmul(p[0].second, transpose(x, 0, 1)) - y)); };
  };
  optim::OptionMap options = {{"lr", 0.02}, {"update_interval", 3}, {"beta2", 0.99}};
  optim::NamedTensors straight = {{"w", zeros({4, 6}, {.dtype = kFloat64}).requires_grad_()}};
  optim::NamedTensors paused = {{"w", zeros({4, 6}, {.dtype = kFloat64}).requires_grad_()}};
  auto a = optim::create("shampoo", straight, options),
       b = optim::create("shampoo", paused, options);
  std::vector<std::vector<double>> roots;
  for (int i = 0; i < 4; ++i) {
    a->step(closure_of(make_loss(straight)));
    roots.push_back(values(a->state("w")->find("root0")));
  }
  // Refreshed at steps 1 and 4 only; the statistics change every step.
  CHECK(roots[1] == roots[0]);
  CHECK(roots[2] == roots[0]);
  CHECK(roots[3] != roots[0]);

  for (int i = 0; i < 4; ++i) b->step(closure_of(make_loss(paused)));
  optim::StateDict saved = b->state_dict();
  saved.json = nlohmann::json::parse(saved.json.dump());
  optim::NamedTensors resumed = {{"w", core::clone(paused[0].second).requires_grad_()}};
  auto c = optim::create("shampoo", resumed, options);
  CHECK(c->load_state_dict(saved, /*strict=*/true).ok());
  for (int i = 0; i < 4; ++i) {
    a->step(closure_of(make_loss(straight)));
    c->step(closure_of(make_loss(resumed)));
  }
  CHECK(values(resumed[0].second) == values(straight[0].second));
}
