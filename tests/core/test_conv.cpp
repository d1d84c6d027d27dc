// Convolution and pooling against direct loops; the backward kernels against the adjoint
// identities <conv(x, w), g> = <x, backward_data(g, w)> = <w, backward_weight(x, g)>.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "core/ops.h"
#include "nabla.h"

using namespace nabla;

namespace {
Conv2dParams params(int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw,
                    int64_t groups) {
  Conv2dParams p;
  p.stride[0] = sh, p.stride[1] = sw;
  p.padding[0] = ph, p.padding[1] = pw;
  p.dilation[0] = dh, p.dilation[1] = dw;
  p.groups = groups;
  return p;
}

// Direct convolution by definition, in double.
std::vector<double> naive_conv(const Tensor& input, const Tensor& weight, const Conv2dParams& p,
                               const Shape& out) {
  std::vector<double> x = input.to_vector<double>(), w = weight.to_vector<double>();
  const int64_t c = input.size(1), h = input.size(2), wd = input.size(3);
  const int64_t cg = weight.size(1), kh = weight.size(2), kw = weight.size(3);
  const int64_t og = out[1] / p.groups;
  std::vector<double> y(numel(out), 0.0);
  for (int64_t n = 0; n < out[0]; ++n)
    for (int64_t o = 0; o < out[1]; ++o)
      for (int64_t i = 0; i < out[2]; ++i)
        for (int64_t j = 0; j < out[3]; ++j) {
          double acc = 0;
          int64_t g = o / og;
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t a = 0; a < kh; ++a)
              for (int64_t b = 0; b < kw; ++b) {
                int64_t ii = i * p.stride[0] - p.padding[0] + a * p.dilation[0];
                int64_t jj = j * p.stride[1] - p.padding[1] + b * p.dilation[1];
                if (ii < 0 || ii >= h || jj < 0 || jj >= wd) continue;
                acc += x[((n * c + g * cg + ci) * h + ii) * wd + jj] *
                       w[((o * cg + ci) * kh + a) * kw + b];
              }
          y[((n * out[1] + o) * out[2] + i) * out[3] + j] = acc;
        }
  return y;
}

double inner(const Tensor& a, const Tensor& b) { return sum(mul(a, b)).item(); }
}  // namespace

TEST_CASE("conv2d matches direct convolution over strides, padding, dilation and groups") {
  manual_seed(5);
  struct Case {
    Shape input, weight;
    Conv2dParams p;
  };
  std::vector<Case> cases = {
      {{2, 3, 7, 6}, {4, 3, 3, 3}, params(1, 1, 1, 1, 1, 1, 1)},
      {{1, 2, 8, 9}, {3, 2, 3, 2}, params(2, 3, 1, 0, 1, 1, 1)},
      {{1, 2, 9, 9}, {2, 2, 3, 3}, params(1, 1, 2, 2, 2, 2, 1)},
      {{2, 4, 5, 5}, {6, 2, 3, 3}, params(1, 1, 1, 1, 1, 1, 2)},
      {{2, 4, 5, 5}, {4, 1, 3, 3}, params(2, 2, 1, 1, 1, 1, 4)},  // depthwise
      {{3, 5, 4, 4}, {2, 5, 1, 1}, params(1, 1, 0, 0, 1, 1, 1)},  // pointwise: no im2col
      // "same" padding with a 5x3 kernel: im2col and col2im copy shifted planes
      {{2, 2, 6, 5}, {3, 2, 5, 3}, params(1, 1, 2, 1, 1, 1, 1)},
      {{1, 3, 2, 7}, {2, 3, 1, 5}, params(1, 1, 0, 2, 1, 1, 1)},
      // "same" padding with kernels wider than the plane: some shifted rows read nothing
      {{2, 3, 1, 1}, {2, 3, 3, 3}, params(1, 1, 1, 1, 1, 1, 1)},
      {{1, 2, 2, 2}, {3, 2, 5, 5}, params(1, 1, 2, 2, 1, 1, 1)},
      {{1, 4, 1, 3}, {4, 1, 3, 5}, params(1, 1, 1, 2, 1, 1, 4)},
  };
  for (const Case& c : cases) {
    INFO("input ", c.input, " weight ", c.weight);
    Tensor x = randn(c.input, {.dtype = kFloat64}), w = randn(c.weight, {.dtype = kFloat64});
    Tensor y = conv2d(x, w, Tensor(), c.p);
    std::vector<double> expected = naive_conv(x, w, c.p, y.shape());
    std::vector<double> got = y.to_vector<double>();
    REQUIRE(got.size() == expected.size());
    for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(expected[i]));

    Tensor g = randn(y.shape(), {.dtype = kFloat64});
    double lhs = inner(y, g);
    CHECK(inner(x, conv2d_backward_data(g, w, x.shape(), c.p)) == doctest::Approx(lhs));
    CHECK(inner(w, conv2d_backward_weight(x, g, w.shape(), c.p)) == doctest::Approx(lhs));
  }
}

// float32 convolutions with stride 1 and "same" padding have two fast paths on CPUs with AVX2 or
// AVX-512, and those with stride 2 a third (with at least an image per thread; ctest reruns this
// test capped at AVX2 and at the baseline, which has none): Winograd F(2x2, 3x3) for 3x3 kernels
// with 16+ channels, and implicit GEMMs (no im2col) on planes of 16x16 and up with 8+ channels per
// group. float64 always takes im2col, which the test above checks by definition. The cases cover,
// for Winograd: odd planes whose tiles stick out, several images per product and several products
// per thread; for the implicit GEMM: a 5x3 kernel, groups, products of more than 32 rows and
// deeper than one 256 block, a plane wider than one 2048-column block, both layouts of the
// weight gradient, and a plane too large for Winograd; a 3-channel first layer, which stays on
// im2col; and stride 2 (phase planes): odd planes, pixels no window reads, 1x1, 2x2 and 5x5
// kernels, and several images per weight-gradient product.
TEST_CASE("conv2d float32 fast paths agree with float64, forward and both gradients") {
  const int threads = get_num_threads();
  set_num_threads(2);
  manual_seed(6);
  struct Case {
    Shape input, weight;
    Conv2dParams p;
  };
  std::vector<Case> cases = {
      {{4, 40, 8, 8}, {72, 40, 3, 3}, params(1, 1, 1, 1, 1, 1, 1)},
      {{3, 16, 7, 9}, {16, 16, 3, 3}, params(1, 1, 1, 1, 1, 1, 1)},
      {{4, 24, 34, 34}, {20, 24, 3, 3}, params(1, 1, 1, 1, 1, 1, 1)},
      {{3, 8, 16, 17}, {12, 8, 5, 3}, params(1, 1, 2, 1, 1, 1, 1)},
      {{4, 16, 16, 16}, {16, 8, 3, 3}, params(1, 1, 1, 1, 1, 1, 2)},
      {{4, 8, 16, 16}, {80, 8, 3, 3}, params(1, 1, 1, 1, 1, 1, 1)},
      {{2, 64, 16, 16}, {32, 32, 3, 3}, params(1, 1, 1, 1, 1, 1, 2)},
      {{2, 8, 48, 48}, {8, 8, 3, 3}, params(1, 1, 1, 1, 1, 1, 1)},
      {{2, 16, 72, 72}, {16, 16, 3, 3}, params(1, 1, 1, 1, 1, 1, 1)},  // past Winograd's 64x64
      {{4, 3, 32, 32}, {16, 3, 3, 3}, params(1, 1, 1, 1, 1, 1, 1)},
      // Stride 2 on phase planes.
      {{4, 16, 32, 32}, {32, 16, 3, 3}, params(2, 2, 1, 1, 1, 1, 1)},
      {{3, 8, 15, 17}, {12, 8, 3, 3}, params(2, 2, 1, 1, 1, 1, 1)},
      {{3, 8, 16, 16}, {8, 8, 3, 3}, params(2, 2, 0, 0, 1, 1, 1)},  // the last row is never read
      {{4, 16, 16, 16}, {32, 16, 1, 1}, params(2, 2, 0, 0, 1, 1, 1)},
      {{2, 8, 12, 12}, {8, 8, 5, 5}, params(2, 2, 2, 2, 1, 1, 1)},
      {{2, 8, 8, 8}, {16, 8, 2, 2}, params(2, 2, 0, 0, 1, 1, 1)},
      {{6, 16, 8, 8}, {40, 16, 3, 3}, params(2, 2, 1, 1, 1, 1, 1)},
      {{2, 8, 7, 7}, {8, 8, 1, 1}, params(2, 2, 1, 1, 1, 1, 1)},  // windows of padding only
  };
  auto check_close = [](const Tensor& got, const Tensor& expected) {
    std::vector<double> a = got.to_vector<double>(), b = expected.to_vector<double>();
    REQUIRE(a.size() == b.size());
    double scale = 1, worst = 0;
    for (size_t i = 0; i < b.size(); ++i) scale = std::max(scale, std::abs(b[i]));
    for (size_t i = 0; i < b.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
    CHECK(worst <= 2e-5 * scale);
  };
  for (const Case& c : cases) {
    INFO("input ", c.input, " weight ", c.weight);
    Tensor x = randn(c.input), w = randn(c.weight), b = randn({c.weight[0]});
    Tensor x64 = core::to(x, kFloat64), w64 = core::to(w, kFloat64), b64 = core::to(b, kFloat64);
    Tensor y = conv2d(x, w, b, c.p);
    check_close(y, conv2d(x64, w64, b64, c.p));
    Tensor g = randn(y.shape()), g64 = core::to(g, kFloat64);
    check_close(conv2d_backward_data(g, w, x.shape(), c.p),
                conv2d_backward_data(g64, w64, x.shape(), c.p));
    check_close(conv2d_backward_weight(x, g, w.shape(), c.p),
                conv2d_backward_weight(x64, g64, w.shape(), c.p));
  }
  set_num_threads(threads);
}

TEST_CASE("conv2d: bias, float32, and errors that name both shapes") {
  Tensor x = ones({1, 2, 3, 3}), w = ones({4, 2, 3, 3}), b = from_vector<float>({0, 1, 2, 3});
  Tensor y = conv2d(x, w, b, params(1, 1, 1, 1, 1, 1, 1));
  CHECK(y.shape() == Shape{1, 4, 3, 3});
  CHECK(select(select(select(select(y, 0, 0), 0, 3), 0, 1), 0, 1).item() == 18.0 + 3);
  CHECK_THROWS_WITH_AS(conv2d(ones({8, 3, 32, 32}), ones({32, 16, 3, 3})),
                       "conv2d: input has 3 channels but weight expects 16 (input [8, 3, 32, 32], "
                       "weight [32, 16, 3, 3], groups 1)",
                       ShapeError);
  CHECK_THROWS_AS(conv2d(ones({1, 1, 2, 2}), ones({1, 1, 3, 3})), ShapeError);
  CHECK_THROWS_AS(conv2d(ones({1, 1, 2, 2}), ones({1, 1, 1, 1}, {.dtype = kFloat64})), DTypeError);
  CHECK_THROWS_AS(
      conv2d(ones({1, 4, 3, 3}), ones({3, 2, 1, 1}), Tensor(), params(1, 1, 0, 0, 1, 1, 2)),
      ShapeError);
}

TEST_CASE("max_pool2d and avg_pool2d against direct loops") {
  Tensor x = reshape(arange(16, {.dtype = kFloat64}), {1, 1, 4, 4});
  CHECK(max_pool2d(x, 2).to_vector<double>() == std::vector<double>{5, 7, 13, 15});
  CHECK(avg_pool2d(x, 2).to_vector<double>() == std::vector<double>{2.5, 4.5, 10.5, 12.5});
  // 3x3 windows, stride 2, padding 1: corners see 4 real cells; the divisor depends on
  // count_include_pad.
  Pool2dParams p;
  p.kernel[0] = p.kernel[1] = 3;
  p.stride[0] = p.stride[1] = 2;
  p.padding[0] = p.padding[1] = 1;
  Tensor with_pad = avg_pool2d(x, p);
  CHECK(with_pad.to_vector<double>()[0] == doctest::Approx((0 + 1 + 4 + 5) / 9.0));
  p.count_include_pad = false;
  CHECK(avg_pool2d(x, p).to_vector<double>()[0] == doctest::Approx((0 + 1 + 4 + 5) / 4.0));
  CHECK(max_pool2d(x, p).to_vector<double>() == std::vector<double>{5, 7, 13, 15});
  p.ceil_mode = true;
  p.padding[0] = p.padding[1] = 0;
  CHECK(max_pool2d(x, p).shape() == Shape{1, 1, 2, 2});  // ceil((4 - 3) / 2) + 1
  Tensor five = reshape(arange(25, {.dtype = kFloat64}), {1, 1, 5, 5});
  Pool2dParams ceil2;
  ceil2.kernel[0] = ceil2.kernel[1] = 2;
  ceil2.stride[0] = ceil2.stride[1] = 2;
  ceil2.ceil_mode = true;
  CHECK(max_pool2d(five, ceil2).to_vector<double>() ==
        std::vector<double>{6, 8, 9, 16, 18, 19, 21, 23, 24});
  CHECK_THROWS_AS(max_pool2d(x, 3, 1, 2), ValueError);  // padding over half the window
  CHECK_THROWS_AS(max_pool2d(ones({4, 4}), 2), ShapeError);
}

TEST_CASE("max_pool2d gradient goes to the winning position") {
  Tensor x = from_vector<double>({1, 9, 2, 3, 4, 5, 6, 7, 8, 0, 1, 2, 3, 4, 5, 6}, {1, 1, 4, 4})
                 .requires_grad_();
  backward(sum(max_pool2d(x, 2)));
  CHECK(x.grad().to_vector<double>() ==
        std::vector<double>{0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1});
}

// float32 2x2 pooling has its own vector kernels for AVX-512 and AVX2; float64 takes the scalar
// loop. Both must pick the same winner, ties (small integers) and NaNs included, on widths that
// leave partial vectors and an unused last column.
TEST_CASE("max_pool2d float32 2x2 agrees with the float64 path, ties and NaN included") {
  manual_seed(21);
  Pool2dParams p;
  p.kernel[0] = p.kernel[1] = 2;
  p.stride[0] = p.stride[1] = 2;
  for (const Shape& shape : {Shape{2, 3, 6, 6}, Shape{1, 2, 32, 32}, Shape{1, 1, 5, 67},
                             Shape{3, 1, 4, 34}, Shape{1, 1, 2, 2}}) {
    std::vector<float> values = randint(0, 4, shape).to_vector<float>();
    for (size_t i = 7; i < values.size(); i += 29)
      values[i] = std::numeric_limits<float>::quiet_NaN();
    Tensor x = from_vector<float>(values, shape);
    auto [out32, at32] = core::max_pool2d(x, p);
    auto [out64, at64] = core::max_pool2d(core::to(x, kFloat64), p);
    CAPTURE(shape);
    CHECK(at32.to_vector<int64_t>() == at64.to_vector<int64_t>());
    std::vector<double> a = out32.to_vector<double>(), b = out64.to_vector<double>();
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i)
      CHECK((a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i]))));
  }
}

TEST_CASE("max_pool2d_backward adds overlapping windows' gradients and checks its indices") {
  manual_seed(22);
  Tensor x = randn({2, 3, 7, 5}, {.dtype = kFloat64});
  Pool2dParams p;
  p.kernel[0] = p.kernel[1] = 3;
  p.stride[0] = p.stride[1] = 1;
  p.padding[0] = p.padding[1] = 1;
  auto [out, indices] = core::max_pool2d(x, p);
  Tensor g = randn(out.shape(), {.dtype = kFloat64});
  Tensor routed = core::max_pool2d_backward(g, indices, x.shape());
  Tensor expected =
      core::reshape(core::scatter_add(zeros({6, 35}, {.dtype = kFloat64}), 1,
                                      core::reshape(indices, {6, -1}), core::reshape(g, {6, -1})),
                    x.shape());
  CHECK(routed.to_vector<double>() == expected.to_vector<double>());

  Tensor outside = full(out.shape(), 35, {.dtype = kInt64});  // one past a 7x5 plane
  CHECK_THROWS_AS(core::max_pool2d_backward(g, outside, x.shape()), IndexError);
  CHECK_THROWS_AS(core::max_pool2d_backward(g, core::to(indices, kInt32), x.shape()), DTypeError);
  CHECK_THROWS_AS(core::max_pool2d_backward(g, indices, {2, 4, 7, 5}), ShapeError);
}

TEST_CASE("avg_pool2d_backward is the adjoint of avg_pool2d") {
  manual_seed(9);
  Pool2dParams p;
  p.kernel[0] = p.kernel[1] = 3;
  p.stride[0] = p.stride[1] = 2;
  p.padding[0] = p.padding[1] = 1;
  p.count_include_pad = false;
  Tensor x = randn({2, 3, 7, 6}, {.dtype = kFloat64});
  Tensor y = avg_pool2d(x, p);
  Tensor g = randn(y.shape(), {.dtype = kFloat64});
  CHECK(inner(y, g) == doctest::Approx(inner(x, avg_pool2d_backward(g, x.shape(), p))));
}
