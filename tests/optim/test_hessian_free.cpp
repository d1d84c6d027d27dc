// Hessian-free optimization and its conjugate gradient, in float64: CG solves a positive-definite
// system within n iterations (with and without a preconditioner) and flags negative curvature;
// Hessian-free reaches a strictly convex quadratic's minimum in one step, fits logistic
// regression to a tiny gradient with Hessian and with Gauss-Newton curvature, adapts its damping
// by the reduction ratio, and refuses Gauss-Newton without the model's outputs.
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "core/creation.h"
#include "optim/conjugate_gradient.h"
#include "optim/hessian_free.h"
#include "optim/registry.h"
#include "optim/state_dict.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::testing;

namespace {

// A fixed LCG in [-1, 1), so the data never depend on nabla's generator.
std::vector<double> numbers(size_t count, uint64_t seed) {
  std::vector<double> out;
  for (size_t i = 0; i < count; ++i) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    out.push_back(static_cast<double>(seed >> 11) / 9007199254740992.0 * 2 - 1);
  }
  return out;
}

// A = M M^T + shift I [n, n], symmetric positive definite for shift > 0.
Tensor spd_matrix(int64_t n, double shift, uint64_t seed) {
  Tensor m = from_vector<double>(numbers(static_cast<size_t>(n * n), seed), {n, n});
  return matmul(m, transpose(m, 0, 1)) + shift * eye(n, {.dtype = kFloat64});
}

double euclidean_norm(const Tensor& t) {
  double sum = 0;
  for (double v : values(t)) sum += v * v;
  return std::sqrt(sum);
}

optim::CgResult solve(const Tensor& a, const Tensor& b, const optim::ParamVector& inverse_m) {
  auto apply = [&](const optim::ParamVector& v) { return optim::ParamVector{matmul(a, v[0])}; };
  return optim::conjugate_gradient(
      apply, {b}, {zeros_like(b)}, inverse_m,
      {.max_iterations = 50, .tolerance = 1e-13, .progress_tolerance = 0});
}

optim::Closure closure_of(const std::function<Tensor()>& loss_fn) {
  return [loss_fn] {
    Tensor loss = loss_fn();
    backward(loss);
    return loss;
  };
}

// Logistic regression on 40 points in 3-D whose labels are noisy (so the minimum is finite),
// with a small L2 term: weights [3] and bias [1].
struct Logistic {
  Tensor x = from_vector<double>(numbers(120, 31), {40, 3});
  Tensor y;
  Tensor w = zeros({3}, {.dtype = kFloat64}).requires_grad_();
  Tensor b = zeros({1}, {.dtype = kFloat64}).requires_grad_();

  Logistic() {
    std::vector<double> noise = numbers(40, 32), labels;
    std::vector<double> points = values(x);
    for (size_t i = 0; i < 40; ++i) {
      double margin = points[3 * i] - 0.5 * points[3 * i + 1] + 0.2 + 0.6 * noise[i];
      labels.push_back(margin > 0 ? 1.0 : 0.0);
    }
    y = from_vector<double>(labels);
  }
  Tensor logits() const { return matmul(x, w) + b; }
  // Binary cross-entropy with logits, written stably: softplus(z) - y z, plus 1e-3 |w|^2.
  Tensor loss_of(const Tensor& z) const {
    Tensor softplus = log1p(exp(-abs(z))) + relu(z);
    return mean(softplus - y * z) + 1e-3 * sum(w * w);
  }
  double gradient_norm() {
    Tensor loss = loss_of(logits());
    std::vector<Tensor> g = autograd::grad({loss}, {w, b});
    return std::sqrt(std::pow(euclidean_norm(g[0]), 2) + std::pow(euclidean_norm(g[1]), 2));
  }
};

}  // namespace

TEST_CASE("conjugate_gradient: solves a positive-definite system within n iterations") {
  const int64_t n = 6;
  Tensor a = spd_matrix(n, 0.5, 3);
  Tensor b = from_vector<double>(numbers(n, 4));
  // Rows and columns scaled by up to 100: ill-conditioned, until a Jacobi preconditioner undoes
  // the scaling.
  Tensor scale = from_vector<double>({1, 10, 100, 1, 10, 100});
  Tensor scaled_a = a * unsqueeze(scale, 1) * unsqueeze(scale, 0);
  std::vector<double> diagonal;
  for (int64_t i = 0; i < n; ++i) diagonal.push_back(1 / values(scaled_a)[i * n + i]);
  struct Case {
    const char* name;
    Tensor matrix;
    optim::ParamVector inverse_m;
  };
  for (const Case& c :
       {Case{"plain", a, {}},
        Case{"scaled, preconditioned", scaled_a, {from_vector<double>(diagonal)}}}) {
    CAPTURE(std::string(c.name));
    optim::CgResult result = solve(c.matrix, b, c.inverse_m);
    Tensor x = result.saved.back().x[0];
    const double residual = euclidean_norm(matmul(c.matrix, x) + b) / euclidean_norm(b);
    MESSAGE(std::string(c.name), ": ", result.iterations, " iterations, relative residual ",
            residual);
    CHECK(result.iterations <= n + 1);
    CHECK(residual < 1e-9);
    CHECK_FALSE(result.negative_curvature);
    // The model's value falls at every saved iterate, and the last is where CG stopped.
    for (size_t i = 1; i < result.saved.size(); ++i)
      CHECK(result.saved[i].phi < result.saved[i - 1].phi);
    CHECK(result.saved.back().iteration == result.iterations);
    CHECK(result.saved[0].iteration == 1);
  }
  // Without the preconditioner, rounding on the scaled system costs CG extra iterations.
  optim::CgResult unpreconditioned = solve(scaled_a, b, {});
  MESSAGE("scaled, unpreconditioned: ", unpreconditioned.iterations, " iterations");
  CHECK(unpreconditioned.iterations > n + 1);
}

TEST_CASE("conjugate_gradient: stops at negative curvature and drops a bad warm start") {
  Tensor a = from_vector<double>({2, 0, 0, -1}, {2, 2});
  Tensor b = from_vector<double>({1, 1});
  optim::CgResult result = solve(a, b, {});
  CHECK(result.negative_curvature);
  // A warm start with phi(x0) > 0 restarts from zero: the same result as no warm start.
  Tensor spd = spd_matrix(4, 1, 5);
  Tensor rhs = from_vector<double>(numbers(4, 6));
  auto apply = [&](const optim::ParamVector& v) { return optim::ParamVector{matmul(spd, v[0])}; };
  optim::CgOptions options{.max_iterations = 2, .tolerance = 0, .progress_tolerance = 0};
  optim::CgResult cold = optim::conjugate_gradient(apply, {rhs}, {zeros_like(rhs)}, {}, options);
  optim::CgResult bad = optim::conjugate_gradient(apply, {rhs}, {rhs * 100.0}, {}, options);
  CHECK(values(bad.saved.back().x[0]) == values(cold.saved.back().x[0]));
}

TEST_CASE("hessian_free: the minimum of a strictly convex quadratic in one step") {
  const int64_t n = 6;
  Tensor a = spd_matrix(n, 1, 7);
  Tensor bt = from_vector<double>(numbers(n, 8));
  Tensor x = zeros({n}, {.dtype = kFloat64}).requires_grad_();
  auto loss = [&] { return 0.5 * sum(x * matmul(a, x)) - sum(bt * x); };
  auto optimizer = optim::create(
      "hessian_free", {x}, {{"damping", 0.0}, {"preconditioner", "none"}, {"cg_tolerance", 1e-14}});
  optim::StepResult result = optimizer->step(closure_of(loss));
  const double gradient = euclidean_norm(matmul(a, detach(x)) - bt);
  MESSAGE("gradient norm after one step: ", gradient, " (", result.closure_calls,
          " closure calls)");
  CHECK(gradient <= 1e-10 * euclidean_norm(bt));
  CHECK(result.loss.item() == 0.0);  // the loss where the step started
}

TEST_CASE("hessian_free: logistic regression to a tiny gradient, Hessian and Gauss-Newton") {
  for (std::string curvature : {"hessian", "gauss_newton"}) {
    for (std::string preconditioner : {"hutchinson", "squared_gradient", "none"}) {
      CAPTURE(curvature);
      CAPTURE(preconditioner);
      Logistic problem;
      auto optimizer =
          optim::create("hessian_free", {{"w", problem.w}, {"b", problem.b}},
                        {{"curvature", curvature}, {"preconditioner", preconditioner}});
      auto& hessian_free = dynamic_cast<optim::HessianFree&>(*optimizer);
      const double start = problem.gradient_norm();
      int steps = 0;
      while (steps < 30 && problem.gradient_norm() > 1e-10 * start) {
        hessian_free.step(optim::OutputsClosure([&] {
          Tensor z = problem.logits();
          return optim::ModelOutputs{z, problem.loss_of(z)};
        }));
        ++steps;
      }
      MESSAGE(curvature, " / ", preconditioner, ": gradient norm ", problem.gradient_norm(),
              " after ", steps, " steps (from ", start, ")");
      CHECK(problem.gradient_norm() <= 1e-10 * start);
    }
  }
}

TEST_CASE("hessian_free: the damping follows the reduction ratio") {
  // On a quadratic the model is exact (rho = 1): lambda shrinks by the boost each step.
  Tensor a = spd_matrix(4, 1, 9);
  Tensor x = from_vector<double>({1, -1, 2, 0.5}).requires_grad_();
  auto quadratic = [&] { return 0.5 * sum(x * matmul(a, x)); };
  auto optimizer = optim::create(
      "hessian_free", {x}, {{"damping", 2.0}, {"damping_boost", 1.5}, {"cg_max_iterations", 2}});
  for (int i = 0; i < 3; ++i) optimizer->step(closure_of(quadratic));
  CHECK(optimizer->state("0")->scalars().at("damping") ==
        doctest::Approx(2.0 / (1.5 * 1.5 * 1.5)).epsilon(1e-12));
  // Likewise with a learning rate per group, where the model's prediction for the step
  // (0.5 d_u, d_v) takes its own curvature product.
  Tensor u = from_vector<double>({1, -1}).requires_grad_();
  Tensor v = from_vector<double>({2, 0.5}).requires_grad_();
  auto coupled = [&] {
    Tensor w = cat({u, v});
    return 0.5 * sum(w * matmul(a, w));
  };
  auto grouped = optim::create("hessian_free", {{"u", u}}, {{"damping", 2.0}, {"lr", 0.5}});
  grouped->add_param_group(optim::NamedTensors{{"v", v}}, {{"lr", 1.0}});
  for (int i = 0; i < 3; ++i) grouped->step(closure_of(coupled));
  CHECK(grouped->state("v")->scalars().at("damping") ==
        doctest::Approx(2.0 / (1.5 * 1.5 * 1.5)).epsilon(1e-12));

  // sqrt(1 + y^2) from y = 3: the undamped Newton step -y (1 + y^2) overshoots far past the
  // minimum, the loss rises (rho < 0), so lambda grows, and the line search still lowers it.
  Tensor y = from_vector<double>({3.0}).requires_grad_();
  auto hill = [&] { return sum(sqrt(1.0 + y * y)); };
  auto damped = optim::create("hessian_free", {y}, {{"damping", 1e-3}, {"preconditioner", "none"}});
  const double before = hill().item();
  damped->step(closure_of(hill));
  CHECK(damped->state("0")->scalars().at("damping") == doctest::Approx(1.5e-3).epsilon(1e-12));
  CHECK(hill().item() < before);
}

TEST_CASE("hessian_free: warm-starts CG from its last solution, kept in the state") {
  Tensor a = spd_matrix(5, 1, 10);
  Tensor x = from_vector<double>(numbers(5, 11)).requires_grad_();
  auto quadratic = [&] { return 0.5 * sum(x * matmul(a, x)); };
  auto optimizer = optim::create("hessian_free", {x}, {{"cg_max_iterations", 1}});
  optimizer->step(closure_of(quadratic));
  const optim::State* state = optimizer->state("0");
  REQUIRE(state != nullptr);
  CHECK(state->find("cg_direction").defined());
  CHECK(state->find("curvature_diagonal").defined());
  CHECK(optimizer->state_dict().tensors.size() == 2);
}

TEST_CASE("hessian_free: Gauss-Newton curvature needs the model's outputs") {
  Tensor x = from_vector<double>({1.0, 2.0}).requires_grad_();
  auto optimizer = optim::create("hessian_free", {x}, {{"curvature", "gauss_newton"}});
  std::string message = error_of([&] { optimizer->step(closure_of([&] { return sum(x * x); })); });
  CHECK(message.find("hessian_free: curvature 'gauss_newton' needs the model's outputs") !=
        std::string::npos);
  CHECK(error_of([&] { optimizer->step(); }).find("needs a closure") != std::string::npos);
}
