// BFGS: finite termination on an n-dimensional quadratic with exact line searches, skipped
// updates where the curvature condition fails, and the fixed-step variant.
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "core/ops.h"
#include "optim/registry.h"
#include "problems.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::testing;

namespace {

optim::Closure closure_of(const std::function<Tensor()>& loss_fn) {
  return [loss_fn] {
    Tensor loss = loss_fn();
    backward(loss);
    return loss;
  };
}

}  // namespace

TEST_CASE("bfgs: an n-dimensional quadratic within n + 1 iterations with exact line searches") {
  // f = 1/2 x^T A x - b^T x, A [8, 8] symmetric positive definite with eigenvalues 1 ... 64.
  const int64_t n = 8;
  std::vector<double> entries(n * n, 0.0);
  for (int64_t i = 0; i < n; ++i)
    entries[i * n + i] = std::pow(2.0, static_cast<double>(i) * 6 / 7);
  // A rotation mixes the coordinates, so the problem is not separable.
  Tensor q = from_vector<double>(
      [&] {
        std::vector<double> r(n * n);
        for (int64_t i = 0; i < n; ++i)
          for (int64_t j = 0; j < n; ++j)
            r[i * n + j] = std::cos(0.7 * (i + 1) * (j + 1) + 0.3 * j);
        return r;
      }(),
      {n, n});
  Tensor qr = q + transpose(q, 0, 1);  // symmetric, so its eigenvectors are orthogonal
  auto [w, v] = core::eigh(qr);
  Tensor a = matmul(matmul(v, from_vector<double>(entries, {n, n})), transpose(v, 0, 1));
  Tensor b = from_vector<double>({1, -2, 3, -4, 5, -6, 7, -8});
  Tensor x = zeros({n}, {.dtype = kFloat64}).requires_grad_();
  auto loss = [&] { return 0.5 * sum(x * matmul(a, x)) - sum(b * x); };
  // One iteration per step; a small c2 makes the strong-Wolfe search exact (to the accuracy that
  // interpolating loss values allows, about 1e-8) on a quadratic.
  auto optimizer = optim::create("bfgs", {x},
                                 {{"line_search", "strong_wolfe"},
                                  {"max_iter", 1},
                                  {"sufficient_decrease", 1e-8},
                                  {"curvature", 1e-6},
                                  {"tolerance_grad", 0.0}});
  const double start = norm(b).item();
  std::vector<double> relative;  // the gradient norm after each iteration, relative to the start
  for (int64_t i = 0; i <= n; ++i) {
    optimizer->step(closure_of(loss));
    relative.push_back(norm(matmul(a, detach(x)) - b).item() / start);
  }
  MESSAGE("bfgs: relative gradient norm after n - 1 = ", n - 1, " iterations ", relative[n - 2],
          ", after n: ", relative[n - 1], ", after n + 1: ", relative[n]);
  // Finite termination, not just fast convergence: far from the minimum one iteration before n.
  CHECK(relative[n - 2] > 1e-4);
  CHECK(relative[n] <= 1e-7);
}

TEST_CASE("bfgs: skips the update where the curvature condition fails, and still converges") {
  // f = -x^2 + x^4 / 4 is concave for |x| < sqrt(2/3): from x = 0.1 the fixed steps' first two
  // pairs have s . y < 0 (a line search would never give one). The minimum is x = sqrt(2).
  Tensor x = from_vector<double>({0.1}).requires_grad_();
  auto loss = [&] { return sum(-square(x) + 0.25 * pow(x, 4.0)); };
  auto optimizer =
      optim::create("bfgs", {x}, {{"tolerance_grad", 1e-12}, {"tolerance_change", 0.0}});
  for (int i = 0; i < 5; ++i) optimizer->step(closure_of(loss));
  double skipped = optimizer->state("0")->scalars().at("skipped_updates");
  MESSAGE("bfgs: ", skipped, " updates skipped");
  CHECK(skipped >= 2);
  CHECK(values(detach(x))[0] == doctest::Approx(std::sqrt(2.0)).epsilon(1e-9));
}

TEST_CASE("bfgs: too many parameters for a dense inverse Hessian is an error naming the limit") {
  Tensor big = zeros({10001}, {.dtype = kFloat64}).requires_grad_();
  auto optimizer = optim::create("bfgs", {big});
  std::string message =
      error_of([&] { optimizer->step(closure_of([&] { return sum(square(big - 1.0)); })); });
  CHECK(message.find("bfgs: the parameters have 10001 elements, more than max_params = 10000") ==
        0);
  CHECK(values(big) == std::vector<double>(10001, 0.0));
}
