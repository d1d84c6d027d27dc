// Reductions: hand-computed values, every dim combination against a naive reference on both
// kernel paths, NaN and empty-input behaviour.
#include <doctest/doctest.h>

#include <cmath>

#include "nabla.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::testing;

namespace {

// Sum of x [a, b, c] over the dims in `mask` (bit d set: reduce dim d), by brute force.
std::vector<double> naive_sum(const std::vector<double>& x, const Shape& s, int mask) {
  Shape out_shape = s;
  for (int d = 0; d < 3; ++d)
    if (mask & (1 << d)) out_shape[d] = 1;
  std::vector<double> out(numel(out_shape), 0.0);
  for (int64_t i = 0; i < s[0]; ++i)
    for (int64_t j = 0; j < s[1]; ++j)
      for (int64_t k = 0; k < s[2]; ++k) {
        int64_t oi = mask & 1 ? 0 : i, oj = mask & 2 ? 0 : j, ok = mask & 4 ? 0 : k;
        out[(oi * out_shape[1] + oj) * out_shape[2] + ok] += x[(i * s[1] + j) * s[2] + k];
      }
  return out;
}
}  // namespace

TEST_CASE("sum, mean, amax, amin, argmax on a small matrix") {
  Tensor m = from_vector<double>({1, 5, 2, 8, 3, 3}, {2, 3});
  check_close(sum(m), {22});
  check_close(sum(m, {0}), {9, 8, 5});
  check_close(sum(m, {1}, true), {8, 14});
  CHECK(sum(m, {1}, true).shape() == Shape{2, 1});
  check_close(mean(m, {-1}), {8.0 / 3, 14.0 / 3});
  check_close(amax(m, {1}), {5, 8});
  check_close(amin(m), {1});
  CHECK(argmax(m, 1).to_vector<int64_t>() == std::vector<int64_t>{1, 0});
  CHECK(argmax(m).item<int64_t>() == 3);
  CHECK(argmin(m, 0, true).shape() == Shape{1, 3});
  auto [values_, indices] = max(m, 0);
  check_close(values_, {8, 5, 3});
  CHECK(indices.to_vector<int64_t>() == std::vector<int64_t>{1, 0, 1});
  CHECK(sum(from_vector<int32_t>({1, 2})).dtype() == kInt64);
  CHECK(sum(gt(m, 2.0)).item<int64_t>() == 4);
}

TEST_CASE("argmax takes the first of equal maxima") {
  CHECK(argmax(from_vector<float>({1, 3, 3, 2})).item<int64_t>() == 1);
}

TEST_CASE("reductions over every set of dims match a naive sum, on both kernel paths") {
  manual_seed(11);
  // [3, 5, 7] takes the per-output path; [4, 64, 9] reduced over dim 0 or 1 takes the slices path.
  for (Shape shape : {Shape{3, 5, 7}, Shape{4, 64, 9}}) {
    for (bool transposed : {false, true}) {
      Tensor x = randn(shape, {.dtype = kFloat64});
      if (transposed)
        x = transpose(contiguous(transpose(x, 0, 2)), 0, 2);  // same values, new strides
      std::vector<double> xs = values(x);
      for (int mask = 1; mask < 8; ++mask) {
        std::vector<int64_t> dims;
        for (int d = 0; d < 3; ++d)
          if (mask & (1 << d)) dims.push_back(d);
        INFO("shape ", shape, " dims mask ", mask, " transposed ", transposed);
        check_close(sum(x, dims, true), naive_sum(xs, shape, mask), 1e-9);
      }
    }
  }
}

TEST_CASE("float32 sums of many elements stay accurate") {
  Tensor x = full({1 << 22}, 0.1);
  CHECK(sum(x).item() == doctest::Approx(0.1 * (1 << 22)).epsilon(1e-5));
  Tensor rows = full({4096, 512}, 0.1);
  check_close(slice(sum(rows, {0}), 0, 0, 3), {409.6, 409.6, 409.6}, 1e-5);
}

TEST_CASE("var, stddev, norm, logsumexp") {
  Tensor x = from_vector<double>({2, 4, 4, 4, 5, 5, 7, 9});
  check_close(var(x, {}, 0), {4});
  check_close(stddev(x, {}, 0), {2});
  check_close(var(x), {32.0 / 7});
  Tensor v = from_vector<double>({3, -4});
  check_close(norm(v), {5});
  check_close(norm(v, 1), {7});
  check_close(norm(v, INFINITY), {4});
  check_close(norm(v, 3), {std::cbrt(27.0 + 64.0)});
  Tensor big = from_vector<double>({1000, 1000});
  check_close(logsumexp(big), {1000 + std::log(2.0)});
  check_close(logsumexp(from_vector<double>({-INFINITY, 0})), {0});
  CHECK_THROWS_AS(var(from_vector<double>({1})), ValueError);
}

TEST_CASE("softmax and log_softmax: rows sum to one, stable for large inputs") {
  Tensor x = from_vector<double>({1, 2, 3, 1000, 1000, 1000}, {2, 3});
  Tensor s = softmax(x, 1);
  check_close(sum(s, {1}), {1, 1});
  double e = std::exp(1.0), z = 1 + e + e * e;
  check_close(select(s, 0, 0), {1 / z, e / z, e * e / z});
  check_close(select(s, 0, 1), {1.0 / 3, 1.0 / 3, 1.0 / 3});
  check_close(exp(log_softmax(x, 1)), values(s));
  Tensor cols = softmax(x, 0);
  check_close(sum(cols, {0}), {1, 1, 1});
}

TEST_CASE("max and min propagate NaN, empty reductions") {
  Tensor x = from_vector<float>({1, NAN, 3});
  CHECK(std::isnan(amax(x).item()));
  CHECK(std::isnan(amin(x).item()));
  CHECK(argmax(x).item<int64_t>() == 1);
  CHECK(sum(zeros({0, 3}), {0}).to_vector<float>() == std::vector<float>{0, 0, 0});
  CHECK_THROWS_WITH_AS(amax(zeros({0, 3}), {0}), doctest::Contains("no identity"), ValueError);
  CHECK_THROWS_AS(argmax(zeros({0})), ValueError);
  CHECK_THROWS_AS(sum(zeros({2}), {0, 0}), IndexError);
}
