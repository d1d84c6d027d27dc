// Hessian-vector products of small networks in float64 against their explicit Hessians: an MLP
// with tanh and a network with a convolution, both with a softmax cross-entropy loss. The
// Hessian is built row by row, each row the gradient of one gradient component (double
// backward without any vector product), and checked against central differences of gradients.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "autograd/engine.h"
#include "autograd/functional.h"
#include "autograd/ops.h"
#include "core/creation.h"
#include "core/generator.h"

using namespace nabla;

namespace {

using Params = std::vector<Tensor>;

// The mean cross-entropy of logits [N, C] against class indices (int64 [N]).
Tensor cross_entropy(const Tensor& logits, const Tensor& labels) {
  Tensor picked = one_hot(labels, logits.size(1)) * log_softmax(logits, 1);
  return -sum(picked) / static_cast<double>(logits.size(0));
}

Tensor random_params(const Shape& shape, double scale) {
  return randn(shape, {.dtype = kFloat64}) * scale;
}

struct Network {
  Params params;
  autograd::Function loss;  // of parameters shaped like params
};

// x [5, 3] -> Linear(3, 4) -> tanh -> Linear(4, 3) -> cross-entropy: 31 parameters.
Network tanh_mlp() {
  manual_seed(11);
  Tensor x = randn({5, 3}, {.dtype = kFloat64});
  Tensor labels = from_vector<int64_t>({0, 2, 1, 1, 0});
  Params params = {random_params({4, 3}, 0.8), random_params({4}, 0.3), random_params({3, 4}, 0.8),
                   random_params({3}, 0.3)};
  return {params, [x, labels](const Params& p) {
            Tensor hidden = tanh(matmul(x, transpose(p[0])) + p[1]);  // [5, 4]
            return cross_entropy(matmul(hidden, transpose(p[2])) + p[3], labels);
          }};
}

// x [2, 2, 4, 4] -> Conv2d(2, 3, 3x3, padding 1) -> tanh -> flatten [2, 48] -> Linear(48, 3) ->
// cross-entropy: 204 parameters.
Network conv_net() {
  manual_seed(12);
  Tensor x = randn({2, 2, 4, 4}, {.dtype = kFloat64});
  Tensor labels = from_vector<int64_t>({2, 0});
  Params params = {random_params({3, 2, 3, 3}, 0.4), random_params({3}, 0.2),
                   random_params({3, 48}, 0.3), random_params({3}, 0.2)};
  return {params, [x, labels](const Params& p) {
            Conv2dParams same;
            same.padding[0] = same.padding[1] = 1;
            Tensor features = flatten(tanh(conv2d(x, p[0], p[1], same)), 1);  // [2, 48]
            return cross_entropy(matmul(features, transpose(p[2])) + p[3], labels);
          }};
}

int64_t total_size(const Params& params) {
  int64_t n = 0;
  for (const Tensor& p : params) n += p.numel();
  return n;
}

// The tensors as one vector, in order.
std::vector<double> flat(const Params& tensors) {
  std::vector<double> all;
  for (const Tensor& t : tensors) {
    std::vector<double> v = t.to_vector<double>();
    all.insert(all.end(), v.begin(), v.end());
  }
  return all;
}

// `values` cut into tensors shaped like `like`.
Params unflat(const std::vector<double>& values, const Params& like) {
  Params tensors;
  size_t at = 0;
  for (const Tensor& t : like) {
    auto n = static_cast<size_t>(t.numel());
    std::vector<double> part(values.begin() + static_cast<std::ptrdiff_t>(at),
                             values.begin() + static_cast<std::ptrdiff_t>(at + n));
    tensors.push_back(from_vector<double>(part, t.shape()));
    at += n;
  }
  return tensors;
}

Params requiring_grad(const Params& params) {
  Params leaves;
  for (const Tensor& p : params) leaves.push_back(detach(p).requires_grad_());
  return leaves;
}

// The gradient of network.loss at `params`, flattened.
std::vector<double> gradient(const Network& network, const Params& params) {
  Params leaves = requiring_grad(params);
  return flat(autograd::grad({network.loss(leaves)}, leaves));
}

// The n x n Hessian, row k being d(dL/dθ_k)/dθ by a second backward pass through the recorded
// first one: row-major, n = total_size(params).
std::vector<double> hessian_by_rows(const Network& network) {
  Params leaves = requiring_grad(network.params);
  std::vector<Tensor> first =
      autograd::grad({network.loss(leaves)}, leaves, {}, {.create_graph = true});
  std::vector<Tensor> pieces;
  for (const Tensor& g : first) pieces.push_back(reshape(g, {-1}));
  Tensor g = cat(pieces);  // [n]
  std::vector<double> h;
  for (int64_t k = 0; k < g.numel(); ++k) {
    std::vector<Tensor> row =
        autograd::grad({select(g, 0, k)}, leaves, {}, {.retain_graph = true, .allow_unused = true});
    for (size_t i = 0; i < row.size(); ++i)
      if (!row[i].defined()) row[i] = zeros_like(leaves[i]);
    std::vector<double> values = flat(row);
    h.insert(h.end(), values.begin(), values.end());
  }
  return h;
}

// Column j by central differences of the gradient: (g(θ + e_j s) - g(θ - e_j s)) / 2s.
std::vector<double> hessian_by_differences(const Network& network, double step) {
  std::vector<double> theta = flat(network.params);
  const size_t n = theta.size();
  std::vector<double> h(n * n);
  for (size_t j = 0; j < n; ++j) {
    std::vector<double> plus = theta, minus = theta;
    plus[j] += step;
    minus[j] -= step;
    std::vector<double> gp = gradient(network, unflat(plus, network.params));
    std::vector<double> gm = gradient(network, unflat(minus, network.params));
    for (size_t i = 0; i < n; ++i) h[i * n + j] = (gp[i] - gm[i]) / (2 * step);
  }
  return h;
}

std::vector<double> times(const std::vector<double>& matrix, const std::vector<double>& v) {
  const size_t n = v.size();
  std::vector<double> out(n, 0.0);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j) out[i] += matrix[i * n + j] * v[j];
  return out;
}

// max |a - b| / max |b|: the error relative to the result's scale.
double relative_error(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double error = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    error = std::max(error, std::fabs(a[i] - b[i]));
    scale = std::max(scale, std::fabs(b[i]));
  }
  return error / scale;
}

void check_hvp_against_hessian(const Network& network) {
  const std::vector<double> h = hessian_by_rows(network);
  const auto n = static_cast<size_t>(total_size(network.params));
  REQUIRE(h.size() == n * n);

  // The rows form a symmetric matrix, as a Hessian must.
  double asymmetry = 0, largest = 0;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j) {
      asymmetry = std::max(asymmetry, std::fabs(h[i * n + j] - h[j * n + i]));
      largest = std::max(largest, std::fabs(h[i * n + j]));
    }
  MESSAGE("Hessian ", n, "x", n, ": largest entry ", largest, ", asymmetry ", asymmetry);
  CHECK(asymmetry <= 1e-12 * largest);

  // And they agree with differences of first-order gradients, which share no code with double
  // backward (truncation error ~ step^2, rounding ~ 1e-16 / step).
  const double difference_error = relative_error(hessian_by_differences(network, 1e-5), h);
  MESSAGE("central differences of gradients: relative error ", difference_error);
  CHECK(difference_error < 1e-6);

  // hvp against H v for random directions and for a basis vector (one column of H).
  manual_seed(13);
  std::vector<Params> directions;
  for (int k = 0; k < 3; ++k) {
    Params v;
    for (const Tensor& p : network.params) v.push_back(randn(p.shape(), {.dtype = kFloat64}));
    directions.push_back(v);
  }
  std::vector<double> basis(n, 0.0);
  basis[n / 2] = 1;
  directions.push_back(unflat(basis, network.params));
  for (const Params& v : directions) {
    autograd::HvpResult result = autograd::hvp(network.loss, network.params, v);
    const double error = relative_error(flat(result.hvp), times(h, flat(v)));
    MESSAGE("hvp against the explicit Hessian: relative error ", error);
    CHECK(error < 1e-8);
    CHECK(result.value.item() == doctest::Approx(network.loss(network.params).item()));
  }
}

}  // namespace

TEST_CASE("hvp: an MLP with tanh matches its explicit Hessian") {
  check_hvp_against_hessian(tanh_mlp());
}

TEST_CASE("hvp: a network with a convolution matches its explicit Hessian") {
  check_hvp_against_hessian(conv_net());
}
