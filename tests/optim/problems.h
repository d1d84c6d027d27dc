// Standard test problems for optimizers, in float64: a convex quadratic whose minimum lies inside
// the probability simplex, Rosenbrock's function, and logistic regression on a separable set.
#pragma once

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "core/creation.h"
#include "optim/state.h"

namespace nabla::testing {

struct Problem {
  std::string name;
  // Fresh parameters at the standard start.
  std::function<optim::NamedTensors()> start;
  std::function<Tensor(const optim::NamedTensors&)> loss;
  // Whether the parameters (with their loss) count as solved.
  std::function<bool(const optim::NamedTensors&, double loss)> solved;
  // Whether the problem is posed on the probability simplex too (start and minimum inside it).
  bool simplex = false;
};

inline Tensor leaf(const std::vector<double>& values) {
  return from_vector<double>(values).requires_grad_();
}

// f(x) = 1/2 (x - c)^T A (x - c), A symmetric positive definite with condition number about 10,
// c = (0.1, 0.2, 0.3, 0.4) inside the simplex, from x = (1/4, 1/4, 1/4, 1/4). Solved within 1% of
// the starting distance to c.
inline Problem quadratic() {
  static const std::vector<double> a = {4.0, 0.5, 0.0, 0.2, 0.5, 2.0, 0.3, 0.0,
                                        0.0, 0.3, 1.0, 0.1, 0.2, 0.0, 0.1, 0.5};
  static const std::vector<double> c = {0.1, 0.2, 0.3, 0.4};
  return {"quadratic",
          [] {
            return optim::NamedTensors{{"x", leaf({0.25, 0.25, 0.25, 0.25})}};
          },
          [](const optim::NamedTensors& p) {
            Tensor d = p[0].second - from_vector<double>(c);
            return 0.5 * sum(d * matmul(from_vector<double>(a, {4, 4}), d));
          },
          [](const optim::NamedTensors& p, double) {
            std::vector<double> x = p[0].second.to_vector<double>();
            double distance = 0;
            for (size_t i = 0; i < x.size(); ++i) distance += (x[i] - c[i]) * (x[i] - c[i]);
            return std::sqrt(distance) <= 0.01 * std::sqrt(0.05);
          },
          /*simplex=*/true};
}

// (1 - x)^2 + 100 (y - x^2)^2 from the standard start (-1.2, 1), where it is 24.2; solved once
// the loss is 100 times smaller.
inline Problem rosenbrock() {
  return {"rosenbrock",
          [] {
            return optim::NamedTensors{{"xy", leaf({-1.2, 1.0})}};
          },
          [](const optim::NamedTensors& p) {
            Tensor x = select(p[0].second, 0, 0), y = select(p[0].second, 0, 1);
            return square(1.0 - x) + 100.0 * square(y - square(x));
          },
          [](const optim::NamedTensors&, double loss) { return loss <= 0.242; }};
}

// Logistic regression, weights w [2] and bias b [1], on 64 points labelled by the side of a line
// they lie on, none closer than 0.1 to it. Solved when every point is classified right and the
// mean loss is below 0.1 (it starts at log 2).
inline Problem logistic_regression() {
  static const auto data = [] {
    std::vector<double> x, y;
    uint64_t state = 12345;
    auto uniform = [&] {  // a fixed LCG, so the set never depends on nabla's generator
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      return static_cast<double>(state >> 11) / 9007199254740992.0 * 4 - 2;
    };
    while (y.size() < 64) {
      double u = uniform(), v = uniform();
      double margin = (0.8 * u - 0.6 * v + 0.3);
      if (std::fabs(margin) < 0.1) continue;
      x.insert(x.end(), {u, v});
      y.push_back(margin > 0 ? 1.0 : -1.0);
    }
    return std::pair{x, y};
  }();
  auto margins = [](const optim::NamedTensors& p) {
    Tensor x = from_vector<double>(data.first, {64, 2});
    Tensor y = from_vector<double>(data.second);
    return y * (matmul(x, p[0].second) + p[1].second);
  };
  return {"logistic_regression",
          [] {
            return optim::NamedTensors{{"w", leaf({0.0, 0.0})}, {"b", leaf({0.0})}};
          },
          [margins](const optim::NamedTensors& p) {
            // Margins stay far below exp's overflow here; a max(z, 0) split would lose the
            // gradient at z = 0, where every point starts.
            return mean(log1p(exp(-margins(p))));
          },
          [margins](const optim::NamedTensors& p, double loss) {
            return loss < 0.1 && amin(margins(p)).item() > 0;
          }};
}

}  // namespace nabla::testing
