// Elementwise ops: values against hand-computed results, broadcasting, in-place forms, NaN
// handling and the errors that name the op and both shapes.
#include <doctest/doctest.h>

#include <cmath>

#include "core/ops.h"
#include "nabla.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::testing;

TEST_CASE("binary arithmetic on hand-computed values") {
  Tensor a = from_vector<double>({1, -2, 3, 4});
  Tensor b = from_vector<double>({2, 4, -1, 0.5});
  check_close(a + b, {3, 2, 2, 4.5});
  check_close(a - b, {-1, -6, 4, 3.5});
  check_close(a * b, {2, -8, -3, 2});
  check_close(a / b, {0.5, -0.5, -3, 8});
  check_close(pow(abs(a), b), {1, 16, 1.0 / 3, 2});
  check_close(maximum(a, b), {2, 4, 3, 4});
  check_close(minimum(a, b), {1, -2, -1, 0.5});
  check_close(2.0 - a, {1, 4, -1, -2});
  check_close(1.0 / b, {0.5, 0.25, -1, 2});
}

TEST_CASE("unary math against the standard library") {
  std::vector<double> xs = {-2.5, -0.3, 0.0, 0.7, 3.2};
  Tensor x = from_vector<double>(xs);
  auto expect = [&](const Tensor& t, double (*f)(double)) {
    std::vector<double> got = values(t);
    for (size_t i = 0; i < xs.size(); ++i) CHECK(got[i] == doctest::Approx(f(xs[i])));
  };
  expect(exp(x), [](double v) { return std::exp(v); });
  expect(tanh(x), [](double v) { return std::tanh(v); });
  expect(sigmoid(x), [](double v) { return 1 / (1 + std::exp(-v)); });
  expect(relu(x), [](double v) { return v > 0 ? v : 0.0; });
  expect(erf(x), [](double v) { return std::erf(v); });
  expect(sin(x), [](double v) { return std::sin(v); });
  expect(cos(x), [](double v) { return std::cos(v); });
  expect(abs(x), [](double v) { return std::abs(v); });
  expect(sign(x), [](double v) { return double((0 < v) - (v < 0)); });
  expect(expm1(x), [](double v) { return std::expm1(v); });
  expect(clamp(x, -1, 1), [](double v) { return std::clamp(v, -1.0, 1.0); });
  expect(floor(x), [](double v) { return std::floor(v); });
  Tensor p = from_vector<double>({0.25, 1, 4});
  check_close(sqrt(p), {0.5, 1, 2});
  check_close(rsqrt(p), {2, 1, 0.5});
  check_close(log(p), {std::log(0.25), 0, std::log(4)});
  check_close(log1p(p), {std::log1p(0.25), std::log(2), std::log(5)});
  check_close(reciprocal(p), {4, 1, 0.25});
  check_close(square(p), {0.0625, 1, 16});
}

// float32 GELU has its own exp and erfc, so that its loops vectorize; float64 uses libm's.
TEST_CASE("float32 gelu and its gradient agree with float64 over the whole range") {
  std::vector<double> points;
  for (double v = -12; v <= 12; v += 1.0 / 64) points.push_back(v);
  for (double v : {-100.0, -87.5, 88.5, 100.0, 1e-30, -1e-30, 0.0}) points.push_back(v);
  Tensor x32 = from_vector<float>(std::vector<float>(points.begin(), points.end()));
  Tensor x64 = from_vector<double>(points);
  Tensor grad32 = full_like(x32, 1.5), grad64 = full_like(x64, 1.5);
  auto check = [](const Tensor& got, const Tensor& expected, const std::vector<double>& x) {
    std::vector<double> a = got.to_vector<double>(), b = expected.to_vector<double>();
    for (size_t i = 0; i < b.size(); ++i) {
      CAPTURE(x[i]);
      CHECK(std::abs(a[i] - b[i]) <= 3e-7 * std::max(1.0, std::abs(b[i])));
    }
  };
  check(core::unary(UnaryOp::gelu, x32), core::unary(UnaryOp::gelu, x64), points);
  check(core::binary(BinaryOp::gelu_backward, x32, grad32),
        core::binary(BinaryOp::gelu_backward, x64, grad64), points);
  // Against the definition, x Phi(x) with Phi(x) = erfc(-x / sqrt 2) / 2.
  CHECK(core::unary(UnaryOp::gelu, scalar_tensor(1.25, {.dtype = kFloat64})).item() ==
        doctest::Approx(1.25 * 0.5 * std::erfc(-1.25 / std::sqrt(2.0))).epsilon(1e-15));
  CHECK(std::isnan(core::unary(UnaryOp::gelu, full({1}, NAN)).item()));
}

TEST_CASE("round halves to even, like PyTorch") {
  CHECK(values(round(from_vector<float>({-2.5f, 0.5f, 1.5f, 2.5f}))) ==
        std::vector<double>{-2, 0, 2, 2});
}

TEST_CASE("integer inputs of floating ops compute in float32") {
  Tensor i = from_vector<int64_t>({0, 1});
  CHECK(exp(i).dtype() == kFloat32);
  CHECK(values(exp(i))[1] == doctest::Approx(std::exp(1.0)));
  CHECK((-i).dtype() == kInt64);
  CHECK(values(abs(from_vector<int32_t>({-3, 4}))) == std::vector<double>{3, 4});
}

TEST_CASE("broadcasting follows NumPy and names the op and both shapes on error") {
  Tensor a = reshape(arange(6), {2, 3});
  Tensor row = from_vector<float>({10, 20, 30});
  Tensor col = from_vector<float>({100, 200}, {2, 1});
  check_close(a + row, {10, 21, 32, 13, 24, 35});
  check_close(a + col, {100, 101, 102, 203, 204, 205});
  CHECK((col + row).shape() == Shape{2, 3});
  CHECK((zeros({4, 1, 3}) * zeros({2, 1})).shape() == Shape{4, 2, 3});
  CHECK((a + 1.0).shape() == Shape{2, 3});
  CHECK((a + scalar_tensor(1)).shape() == Shape{2, 3});
  CHECK_THROWS_WITH_AS(
      a + zeros({2}), "add: shapes [2, 3] and [2] cannot be broadcast (dim 1: 3 vs 2)", ShapeError);
  CHECK_THROWS_WITH_AS(mul(zeros({3, 4}), zeros({4, 3})),
                       doctest::Contains("mul: shapes [3, 4] and [4, 3]"), ShapeError);
}

TEST_CASE("broadcast operands with any strides give the same result as contiguous ones") {
  manual_seed(3);
  Tensor a = randn({5, 7});
  Tensor b = randn({7, 5});
  Tensor expected = a + contiguous(transpose(b, 0, 1));
  Tensor got = a + transpose(b, 0, 1);
  CHECK(values(got) == values(expected));
  Tensor big = randn({300, 301});  // large enough to run on several threads
  Tensor bias = randn({301});
  std::vector<double> sum_values = values(big + bias), b_values = values(bias),
                      big_values = values(big);
  for (size_t i = 0; i < sum_values.size(); i += 997)
    CHECK(sum_values[i] == doctest::Approx(big_values[i] + b_values[i % 301]));
}

TEST_CASE("comparisons and logic give bool tensors") {
  Tensor a = from_vector<float>({1, 2, 3});
  Tensor b = from_vector<float>({3, 2, 1});
  CHECK((a < b).dtype() == kBool);
  CHECK(values(a < b) == std::vector<double>{1, 0, 0});
  CHECK(values(a <= b) == std::vector<double>{1, 1, 0});
  CHECK(values(a == b) == std::vector<double>{0, 1, 0});
  CHECK(values(a != 2.0) == std::vector<double>{1, 0, 1});
  CHECK(values(logical_and(a > 1.0, b > 1.0)) == std::vector<double>{0, 1, 0});
  CHECK(values(logical_or(a > 2.0, b > 2.0)) == std::vector<double>{1, 0, 1});
  CHECK(values(logical_not(a > 1.0)) == std::vector<double>{1, 0, 0});
  CHECK(values(where(a > 1.5, a, b)) == std::vector<double>{3, 2, 3});
  CHECK(values(where(a > 1.5, 0.0, b)) == std::vector<double>{3, 0, 0});
  CHECK_THROWS_AS(where(a, a, b), DTypeError);
}

TEST_CASE("NaN propagates through maximum, minimum and clamp like PyTorch") {
  Tensor a = from_vector<float>({NAN, 1});
  Tensor b = from_vector<float>({0, NAN});
  std::vector<double> mx = values(maximum(a, b)), mn = values(minimum(a, b));
  CHECK(std::isnan(mx[0]));
  CHECK(std::isnan(mx[1]));
  CHECK(std::isnan(mn[0]));
  CHECK(std::isnan(mn[1]));
}

TEST_CASE("in-place ops update the tensor, bump its version, and check dtype and shape") {
  Tensor x = from_vector<float>({1, 2, 3});
  uint64_t v0 = x.version();
  add_(x, from_vector<float>({1, 1, 1}), 2.0);
  check_close(x, {3, 4, 5});
  mul_(x, 2.0);
  sub_(x, ones({3}));
  div_(x, 2.0);
  check_close(x, {2.5, 3.5, 4.5});
  addcmul_(x, ones({3}), full({3}, 2), 0.5);
  addcdiv_(x, ones({3}), full({3}, 4), 2.0);
  check_close(x, {4, 5, 6});
  clamp_(x, 0, 5);
  sqrt_(x);
  check_close(x, {2, std::sqrt(5.0), std::sqrt(5.0)});
  x += 1.0;
  x *= from_vector<float>({1, 0, 0});
  check_close(x, {3, 0, 0});
  CHECK(x.version() > v0);
  Tensor i = from_vector<int64_t>({1});
  CHECK_THROWS_WITH_AS(add_(i, 0.5), doctest::Contains("cannot be stored in place"), DTypeError);
  CHECK_THROWS_WITH_AS(add_(zeros({3}), zeros({2, 3})), doctest::Contains("does not fit"),
                       ShapeError);
}
