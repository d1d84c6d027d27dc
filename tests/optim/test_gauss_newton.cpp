// Gauss-Newton-vector products against G = J^T H_L J built explicitly in float64: the Jacobian
// row by row from first-order gradients of each output, the loss Hessian from its closed form
// (softmax cross-entropy and squared error), on an MLP with tanh.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "core/creation.h"
#include "core/generator.h"
#include "optim/gauss_newton.h"

using namespace nabla;

namespace {

using Matrix = std::vector<std::vector<double>>;  // rows

constexpr int64_t kBatch = 4, kInputs = 3, kHidden = 5, kClasses = 3;

struct Model {
  std::vector<Tensor> params;  // leaves that require grad
  Tensor x;                    // [4, 3]
  Tensor labels;               // int64 [4]

  // z [4, 3] = Linear(5, 3)(tanh(Linear(3, 5)(x)))
  Tensor outputs() const {
    Tensor hidden = tanh(matmul(x, transpose(params[0])) + params[1]);
    return matmul(hidden, transpose(params[2])) + params[3];
  }
};

Model model() {
  manual_seed(21);
  Model m;
  for (Shape shape :
       {Shape{kHidden, kInputs}, Shape{kHidden}, Shape{kClasses, kHidden}, Shape{kClasses}})
    m.params.push_back((randn(shape, {.dtype = kFloat64}) * 0.7).requires_grad_());
  m.x = randn({kBatch, kInputs}, {.dtype = kFloat64});
  m.labels = from_vector<int64_t>({2, 0, 1, 2});
  return m;
}

Tensor cross_entropy(const Tensor& z, const Tensor& labels) {
  return -sum(one_hot(labels, z.size(1)) * log_softmax(z, 1)) / static_cast<double>(z.size(0));
}

std::vector<double> flat(const std::vector<Tensor>& tensors) {
  std::vector<double> all;
  for (const Tensor& t : tensors) {
    std::vector<double> v = t.to_vector<double>();
    all.insert(all.end(), v.begin(), v.end());
  }
  return all;
}

// J: one row per output element, d z_k / dθ.
Matrix jacobian(const Model& m) {
  Tensor z = reshape(m.outputs(), {-1});
  Matrix rows;
  for (int64_t k = 0; k < z.numel(); ++k)
    rows.push_back(flat(autograd::grad({select(z, 0, k)}, m.params, {}, {.retain_graph = true})));
  return rows;
}

// The mean cross-entropy's Hessian in z: block i is (diag(p_i) - p_i p_i^T) / N.
Matrix cross_entropy_hessian(const Tensor& z) {
  std::vector<double> p = softmax(z, 1).to_vector<double>();
  const size_t n = static_cast<size_t>(z.numel());
  Matrix h(n, std::vector<double>(n, 0.0));
  for (int64_t i = 0; i < kBatch; ++i)
    for (int64_t a = 0; a < kClasses; ++a)
      for (int64_t b = 0; b < kClasses; ++b) {
        const size_t ra = static_cast<size_t>(i * kClasses + a);
        const size_t rb = static_cast<size_t>(i * kClasses + b);
        h[ra][rb] = ((a == b ? p[ra] : 0.0) - p[ra] * p[rb]) / kBatch;
      }
  return h;
}

// The mean squared error's Hessian: 2 / numel times the identity.
Matrix squared_error_hessian(size_t n) {
  Matrix h(n, std::vector<double>(n, 0.0));
  for (size_t i = 0; i < n; ++i) h[i][i] = 2.0 / static_cast<double>(n);
  return h;
}

// J^T H J v, explicitly.
std::vector<double> gauss_newton_times(const Matrix& j, const Matrix& h,
                                       const std::vector<double>& v) {
  const size_t outputs = j.size(), params = v.size();
  std::vector<double> jv(outputs, 0.0), hjv(outputs, 0.0), result(params, 0.0);
  for (size_t k = 0; k < outputs; ++k)
    for (size_t p = 0; p < params; ++p) jv[k] += j[k][p] * v[p];
  for (size_t k = 0; k < outputs; ++k)
    for (size_t l = 0; l < outputs; ++l) hjv[k] += h[k][l] * jv[l];
  for (size_t p = 0; p < params; ++p)
    for (size_t k = 0; k < outputs; ++k) result[p] += j[k][p] * hjv[k];
  return result;
}

double relative_error(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double error = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    error = std::max(error, std::fabs(a[i] - b[i]));
    scale = std::max(scale, std::fabs(b[i]));
  }
  return error / scale;
}

std::vector<Tensor> random_direction(const Model& m) {
  std::vector<Tensor> v;
  for (const Tensor& p : m.params) v.push_back(randn(p.shape(), {.dtype = kFloat64}));
  return v;
}

void check_products(const Model& m, const Tensor& z, const Tensor& loss, const Matrix& h) {
  const Matrix j = jacobian(m);
  optim::GaussNewtonProduct product(z, loss, m.params);
  manual_seed(22);
  for (int trial = 0; trial < 3; ++trial) {
    std::vector<Tensor> v = random_direction(m);
    std::vector<double> flat_v = flat(v);
    std::vector<double> jv(j.size(), 0.0);
    for (size_t k = 0; k < j.size(); ++k)
      for (size_t p = 0; p < flat_v.size(); ++p) jv[k] += j[k][p] * flat_v[p];
    const double jv_error = relative_error(product.jacobian_vector(v).to_vector<double>(), jv);
    const double gv_error = relative_error(flat(product(v)), gauss_newton_times(j, h, flat_v));
    MESSAGE("J v relative error ", jv_error, ", G v relative error ", gv_error);
    CHECK(jv_error < 1e-8);
    CHECK(gv_error < 1e-8);
  }
}

}  // namespace

TEST_CASE("GaussNewtonProduct: softmax cross-entropy on an MLP matches J^T H_L J") {
  Model m = model();
  Tensor z = m.outputs();
  Tensor loss = cross_entropy(z, m.labels);
  check_products(m, z, loss, cross_entropy_hessian(detach(z)));
}

TEST_CASE("GaussNewtonProduct: squared error on an MLP matches J^T H_L J") {
  Model m = model();
  Tensor z = m.outputs();
  Tensor target = randn(z.shape(), {.dtype = kFloat64});
  Tensor loss = mean(square(z - target));
  check_products(m, z, loss, squared_error_hessian(static_cast<size_t>(z.numel())));
}

TEST_CASE("GaussNewtonProduct: a loss linear in the outputs has no curvature") {
  Model m = model();
  Tensor z = m.outputs();
  optim::GaussNewtonProduct product(z, sum(z), m.params);
  std::vector<double> gv = flat(product(random_direction(m)));
  CHECK(*std::max_element(gv.begin(), gv.end()) == 0.0);
  CHECK(*std::min_element(gv.begin(), gv.end()) == 0.0);
}
