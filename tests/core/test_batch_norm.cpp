// Batch normalization's fused passes against the same quantities composed from reductions and
// elementwise ops, in float64 and float32, on the shapes BatchNorm1d and BatchNorm2d see.
#include <doctest/doctest.h>

#include <cmath>

#include "core/ops.h"
#include "nabla.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::testing;

namespace {

Dims reduced_dims(const Tensor& x) {
  Dims dims{0};
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  return dims;
}

Tensor per_channel(const Tensor& v, const Tensor& x) {
  Shape shape(x.dim(), 1);
  shape[1] = v.size(0);
  return reshape(v, shape);
}

void check_near(const Tensor& got, const Tensor& want, double tol) {
  std::vector<double> g = values(got), w = values(want);
  REQUIRE(g.size() == w.size());
  for (size_t i = 0; i < g.size(); ++i) CHECK(std::abs(g[i] - w[i]) <= tol * (1 + std::abs(w[i])));
}

}  // namespace

TEST_CASE("batch_norm passes match their composed forms") {
  manual_seed(3);
  for (DType dtype : {kFloat64, kFloat32}) {
    const double tol = dtype == kFloat64 ? 1e-12 : 1e-5;
    for (Shape shape : {Shape{6, 3}, Shape{3, 2, 5}, Shape{4, 3, 7, 9}, Shape{2, 16, 33, 40}}) {
      INFO(dtype, " ", shape);
      // An offset far from 0 checks that the variance does not cancel.
      Tensor x = add(randn(shape, {.dtype = dtype}), 100.0);
      Tensor g = randn(shape, {.dtype = dtype});
      const Dims dims = reduced_dims(x);

      auto [mean, var] = core::batch_norm_stats(x);
      check_near(mean, nabla::mean(x, dims), tol);
      check_near(var, nabla::var(x, dims, 0), dtype == kFloat64 ? 1e-9 : 1e-3);

      auto [sum_g, sum_gx] = core::batch_norm_backward_reduce(g, x, mean);
      check_near(sum_g, sum(g, dims), tol * 10);
      check_near(sum_gx, sum(mul(g, sub(x, per_channel(mean, x))), dims),
                 dtype == kFloat64 ? 1e-9 : 1e-3);

      Tensor a = randn({shape[1]}, {.dtype = dtype}), b = randn({shape[1]}, {.dtype = dtype});
      Tensor k = randn({shape[1]}, {.dtype = dtype});
      Tensor affine = add(mul(x, per_channel(a, x)), per_channel(b, x));
      check_near(core::batch_norm_apply(x, a, b), affine, tol);
      check_near(core::batch_norm_apply(x, a, b, g, k), add(affine, mul(g, per_channel(k, x))),
                 tol);
      Tensor residual = mul(randn(shape, {.dtype = dtype}), 100.0);
      check_near(core::batch_norm_apply(x, a, b, {}, {}, {.residual = residual, .relu = true}),
                 relu(add(affine, residual)), tol * 100);
      check_near(core::batch_norm_apply(x, a, b, {}, {}, {.relu = true}), relu(affine), tol);
    }
  }
}

TEST_CASE("batch_norm passes check their arguments") {
  Tensor x = randn({4, 3, 2, 2});
  CHECK_THROWS_AS(core::batch_norm_stats(randn({5})), ShapeError);
  CHECK_THROWS_AS(core::batch_norm_stats(ones({4, 3}, {.dtype = kInt64})), DTypeError);
  CHECK_THROWS_AS(core::batch_norm_backward_reduce(randn({4, 3}), x, zeros({3})), ShapeError);
  CHECK_THROWS_AS(core::batch_norm_apply(x, ones({2}), zeros({3})), ShapeError);
  CHECK_THROWS_AS(core::batch_norm_apply(x, ones({3}), zeros({3}), x, Tensor()), ValueError);
  CHECK(error_of([&] {
          core::batch_norm_apply(x, ones({3}), zeros({4}));
        }).find("batch_norm_apply: shift [4] must be [3]") != std::string::npos);
  CHECK(error_of([&] {
          core::batch_norm_apply(x, ones({3}), zeros({3}), {}, {}, {.residual = randn({4, 3, 2})});
        }).find("batch_norm_apply: residual [4, 3, 2] must have the input's shape [4, 3, 2, 2]") !=
        std::string::npos);
}

TEST_CASE("batch_norm_training: output, statistics, and a gradient through the fused rule") {
  manual_seed(5);
  Tensor x = randn({8, 4, 3, 3}, {.dtype = kFloat64}).requires_grad_();
  Tensor w = randn({4}, {.dtype = kFloat64}).requires_grad_();
  Tensor b = randn({4}, {.dtype = kFloat64}).requires_grad_();
  BatchNormResult r = batch_norm_training(x, w, b, 1e-5);
  const Dims dims{0, 2, 3};
  Tensor centered = sub(x, mean(x, dims, true));
  Tensor want = add(mul(mul(centered, rsqrt(add(var(x, dims, 0, true), 1e-5))), per_channel(w, x)),
                    per_channel(b, x));
  check_near(r.output, want, 1e-12);
  check_near(r.mean, mean(x, dims), 1e-12);
  check_near(r.var, var(x, dims, 0), 1e-12);
  CHECK_FALSE(r.mean.requires_grad());
  // The same upstream gradient through the fused rule and through the composed graph.
  Tensor upstream = randn(x.shape(), {.dtype = kFloat64});
  std::vector<Tensor> fused = autograd::grad({r.output}, {x, w, b}, {upstream});
  std::vector<Tensor> composed = autograd::grad({want}, {x, w, b}, {upstream});
  for (size_t i = 0; i < 3; ++i) check_near(fused[i], composed[i], 1e-10);
}

TEST_CASE("batch_norm_training's epilogue: relu(bn(x) + residual) and its gradients, fused") {
  manual_seed(6);
  Tensor x = randn({8, 4, 3, 3}, {.dtype = kFloat64}).requires_grad_();
  Tensor w = randn({4}, {.dtype = kFloat64}).requires_grad_();
  Tensor b = randn({4}, {.dtype = kFloat64}).requires_grad_();
  Tensor residual = randn(x.shape(), {.dtype = kFloat64}).requires_grad_();
  Tensor fused = batch_norm_training(x, w, b, 1e-5, {.residual = residual, .relu = true}).output;
  Tensor want = relu(add(batch_norm_training(x, w, b, 1e-5).output, residual));
  check_near(fused, want, 1e-12);
  Tensor upstream = randn(x.shape(), {.dtype = kFloat64});
  std::vector<Tensor> got = autograd::grad({fused}, {x, w, b, residual}, {upstream});
  std::vector<Tensor> expected = autograd::grad({want}, {x, w, b, residual}, {upstream});
  for (size_t i = 0; i < 4; ++i) check_near(got[i], expected[i], 1e-10);
}
