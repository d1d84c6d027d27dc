// matmul against a naive triple loop: 2-d, batched, broadcast batch dims, 1-d operands, and
// transposed or sliced views that BLAS reads in place.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "nabla.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::testing;

namespace {
// [M, K] @ [K, N] by the definition, in double.
std::vector<double> naive(const Tensor& a, const Tensor& b) {
  std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  int64_t m = a.size(0), k = a.size(1), n = b.size(1);
  std::vector<double> out(m * n, 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t p = 0; p < k; ++p)
      for (int64_t j = 0; j < n; ++j) out[i * n + j] += x[i * k + p] * y[p * n + j];
  return out;
}

}  // namespace

TEST_CASE("matmul: 2-d against the definition, float32 and float64") {
  manual_seed(1);
  for (DType dtype : {kFloat32, kFloat64}) {
    Tensor a = randn({7, 5}, {.dtype = dtype}), b = randn({5, 3}, {.dtype = dtype});
    Tensor c = matmul(a, b);
    CHECK(c.dtype() == dtype);
    CHECK(c.shape() == Shape{7, 3});
    check_close(c, naive(a, b));
  }
}

TEST_CASE("matmul: transposed and sliced operands give the same result") {
  manual_seed(2);
  Tensor a = randn({6, 4}), b = randn({3, 6});
  Tensor at = transpose(a, 0, 1);  // [4, 6], column-major view
  Tensor bt = transpose(b, 0, 1);  // [6, 3]
  check_close(matmul(at, bt), naive(contiguous(at), contiguous(bt)));
  Tensor wide = randn({4, 12});
  Tensor every_other = slice(wide, 1, 0, 12, 2);  // [4, 6] with column stride 2: copied for BLAS
  check_close(matmul(every_other, bt), naive(contiguous(every_other), contiguous(bt)));
  Tensor rows = slice(randn({10, 6}), 0, 2, 6);  // a row range: BLAS takes it with its leading dim
  check_close(matmul(rows, bt), naive(contiguous(rows), contiguous(bt)));
}

TEST_CASE("matmul: batched, broadcast batch dims, and 1-d operands") {
  manual_seed(3);
  Tensor a = randn({2, 3, 4}), b = randn({2, 4, 5});
  Tensor c = matmul(a, b);
  CHECK(c.shape() == Shape{2, 3, 5});
  for (int64_t i = 0; i < 2; ++i)
    check_close(select(c, 0, i), naive(select(a, 0, i), select(b, 0, i)));

  Tensor shared = randn({4, 5});
  check_close(select(matmul(a, shared), 0, 1), naive(select(a, 0, 1), shared));
  Tensor broadcast = matmul(randn({3, 1, 2, 4}), randn({5, 4, 2}));
  CHECK(broadcast.shape() == Shape{3, 5, 2, 2});

  Tensor v = randn({4});
  CHECK(matmul(v, randn({4, 3})).shape() == Shape{3});
  CHECK(matmul(randn({3, 4}), v).shape() == Shape{3});
  CHECK(matmul(a, v).shape() == Shape{2, 3});
  CHECK(matmul(v, v).dim() == 0);
  check_close(dot(from_vector<float>({1, 2, 3}), from_vector<float>({4, 5, 6})), {32});
  check_close(outer(from_vector<float>({1, 2}), from_vector<float>({3, 4, 5})),
              {3, 4, 5, 6, 8, 10});
}

TEST_CASE("matmul: empty inner dimension gives zeros, empty outer gives empty") {
  check_close(matmul(zeros({2, 0}), zeros({0, 3})), std::vector<double>(6, 0.0));
  CHECK(matmul(zeros({0, 4}), zeros({4, 3})).shape() == Shape{0, 3});
}

TEST_CASE("matmul: errors name both shapes") {
  CHECK_THROWS_WITH_AS(matmul(zeros({2, 3}), zeros({4, 5})),
                       "matmul: shapes [2, 3] and [4, 5] cannot be multiplied (3 != 4)",
                       ShapeError);
  CHECK_THROWS_AS(matmul(zeros({2, 2, 3}), zeros({3, 3, 2})), ShapeError);
  CHECK_THROWS_AS(matmul(zeros({2, 2}, {.dtype = kInt64}), zeros({2, 2}, {.dtype = kInt64})),
                  DTypeError);
  CHECK_THROWS_AS(dot(zeros({2}), zeros({3})), ShapeError);
}

TEST_CASE("matmul: float32 products that threads split and that cross the GEMM's blocks") {
  // Sizes that are not multiples of the register tile, a depth over one block, a width over one
  // packed block, few columns with a long depth (dot products, over several depth passes when
  // b is transposed), a transposed b packed partly in 16 x 16 register transposes (52 columns:
  // a full panel, then one group of 16 and 4 single columns), and every combination of
  // transposed operands.
  // One thread runs every product on the calling thread's kernel, whatever its size.
  manual_seed(4);
  const int threads = get_num_threads();
  const std::vector<std::array<int64_t, 3>> sizes = {
      {300, 70, 520}, {129, 33, 7}, {16, 144, 1024}, {8, 2100, 40},
      {37, 13, 2500}, {4, 31, 300}, {40, 52, 300},   {1, 1, 1}};
  for (int t : {threads, 1}) {
    set_num_threads(t);
    for (auto [m, n, k] : sizes) {
      for (bool ta : {false, true}) {
        for (bool tb : {false, true}) {
          INFO(t, " threads, ", m, "x", n, "x", k, " transposed a ", ta, " b ", tb);
          Tensor a = ta ? transpose(randn({k, m}), 0, 1) : randn({m, k});
          Tensor b = tb ? transpose(randn({n, k}), 0, 1) : randn({k, n});
          std::vector<double> got = values(matmul(a, b));
          std::vector<double> want = naive(contiguous(a), contiguous(b));
          REQUIRE(got.size() == want.size());
          double worst = 0;
          for (size_t i = 0; i < got.size(); ++i)
            worst = std::max(worst, std::abs(got[i] - want[i]));
          // float32 rounding grows with the depth; entries are sums of k unit-variance products.
          CHECK(worst <= 1e-5 * double(k) + 1e-6);
        }
      }
    }
  }
  set_num_threads(threads);
}
