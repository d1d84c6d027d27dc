// eigh against its definition: A V = V diag(w) with orthonormal V and ascending w, in float32 and
// float64, a case known in closed form, and its argument checks.
#include <doctest/doctest.h>

#include <cmath>

#include "core/ops.h"
#include "nabla.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::testing;

TEST_CASE("eigh: A = V diag(w) V^T with orthonormal V and ascending w") {
  manual_seed(3);
  for (DType dtype : {kFloat32, kFloat64}) {
    CAPTURE(dtype);
    const double tol = dtype == kFloat32 ? 1e-4 : 1e-11;
    Tensor b = randn({9, 9}, {.dtype = dtype});
    Tensor a = matmul(b, transpose(b, 0, 1)) + eye(9, {.dtype = dtype});  // symmetric
    auto [w, v] = core::eigh(a);
    CHECK(w.shape() == Shape{9});
    CHECK(v.shape() == Shape{9, 9});
    CHECK(w.dtype() == dtype);
    std::vector<double> ascending = values(w);
    for (size_t i = 1; i < ascending.size(); ++i) CHECK(ascending[i - 1] <= ascending[i]);
    check_close(matmul(transpose(v, 0, 1), v), values(eye(9, {.dtype = dtype})), tol);
    check_close(matmul(a, v), values(v * unsqueeze(w, 0)), tol * 10);
    // The input is left as it was.
    CHECK(values(a) == values(matmul(b, transpose(b, 0, 1)) + eye(9, {.dtype = dtype})));
  }
}

TEST_CASE("eigh: a 2x2 matrix known in closed form") {
  Tensor a = from_vector(std::vector<double>{2, 1, 1, 2}, {2, 2});
  auto [w, v] = core::eigh(a);
  check_close(w, {1, 3}, 1e-14);
  // Eigenvectors are defined up to sign: compare |v|.
  check_close(abs(v), std::vector<double>(4, std::sqrt(0.5)), 1e-14);
}

TEST_CASE("eigh: checks its argument") {
  CHECK(error_of([] { core::eigh(zeros({2, 3})); }).find("square matrix") != std::string::npos);
  CHECK_THROWS_AS(core::eigh(zeros({2, 2}, {.dtype = kInt64})), DTypeError);
  CHECK(core::eigh(zeros({0, 0})).first.numel() == 0);
}
