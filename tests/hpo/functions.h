// Standard test functions with known optima (single objective: Branin, Hartmann-6, Rosenbrock,
// Ackley, Levy; two objectives: ZDT1, ZDT2) as objectives over a trial's suggestions, and the
// regret a study reached on them.
#pragma once

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "hpo/study.h"

namespace nabla::hpo::testing {

struct TestFunction {
  std::string name;
  int dims;
  double low, high;  // the same box in every dimension
  double optimum;    // the global minimum
  double (*f)(const std::vector<double>&);
};

inline double branin(const std::vector<double>& x) {
  // Its usual box is x0 in [-5, 10], x1 in [0, 15]; rescaled here from [0, 1]^2.
  const double a = 15 * x[0] - 5, b = 15 * x[1];
  const double pi = std::numbers::pi;
  const double t = b - 5.1 / (4 * pi * pi) * a * a + 5 / pi * a - 6;
  return t * t + 10 * (1 - 1 / (8 * pi)) * std::cos(a) + 10;
}

inline double hartmann6(const std::vector<double>& x) {
  static const double alpha[4] = {1.0, 1.2, 3.0, 3.2};
  static const double A[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                                 {0.05, 10, 17, 0.1, 8, 14},
                                 {3, 3.5, 1.7, 10, 17, 8},
                                 {17, 8, 0.05, 10, 0.1, 14}};
  static const double P[4][6] = {{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
                                 {0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
                                 {0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
                                 {0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381}};
  double sum = 0;
  for (int i = 0; i < 4; ++i) {
    double inner = 0;
    for (int j = 0; j < 6; ++j) inner += A[i][j] * (x[j] - P[i][j]) * (x[j] - P[i][j]);
    sum += alpha[i] * std::exp(-inner);
  }
  return -sum;
}

inline double rosenbrock(const std::vector<double>& x) {
  double sum = 0;
  for (size_t i = 0; i + 1 < x.size(); ++i)
    sum += 100 * std::pow(x[i + 1] - x[i] * x[i], 2) + std::pow(1 - x[i], 2);
  return sum;
}

inline double ackley(const std::vector<double>& x) {
  const double n = static_cast<double>(x.size());
  double squares = 0, cosines = 0;
  for (double v : x) {
    squares += v * v;
    cosines += std::cos(2 * std::numbers::pi * v);
  }
  return -20 * std::exp(-0.2 * std::sqrt(squares / n)) - std::exp(cosines / n) + 20 +
         std::numbers::e;
}

inline double levy(const std::vector<double>& x) {
  const double pi = std::numbers::pi;
  auto w = [&](size_t i) { return 1 + (x[i] - 1) / 4; };
  const size_t d = x.size();
  double sum = std::pow(std::sin(pi * w(0)), 2);
  for (size_t i = 0; i + 1 < d; ++i)
    sum += std::pow(w(i) - 1, 2) * (1 + 10 * std::pow(std::sin(pi * w(i) + 1), 2));
  sum += std::pow(w(d - 1) - 1, 2) * (1 + std::pow(std::sin(2 * pi * w(d - 1)), 2));
  return sum;
}

inline const std::vector<TestFunction>& single_objective_functions() {
  static const std::vector<TestFunction> functions = {
      {"branin", 2, 0, 1, 0.397887357729738, branin},
      {"hartmann6", 6, 0, 1, -3.32236801141551, hartmann6},
      {"rosenbrock", 2, -2, 2, 0, rosenbrock},
      {"ackley", 2, -5, 5, 0, ackley},
      {"levy", 2, -10, 10, 0, levy},
  };
  return functions;
}

// An objective suggesting x0, x1, ... in the function's box.
inline Study::Objective objective_of(const TestFunction& fn) {
  return [&fn](Trial& t) {
    std::vector<double> x;
    for (int i = 0; i < fn.dims; ++i)
      x.push_back(t.suggest_float(std::string("x").append(std::to_string(i)), fn.low, fn.high));
    return fn.f(x);
  };
}

// ZDT1 and ZDT2 (Zitzler, Deb and Thiele 2000) over [0, 1]^n; on both Pareto fronts g = 1, and
// the reference point (1, 1) bounds them. ZDT1's front is f2 = 1 - sqrt(f1), ZDT2's f2 = 1 - f1^2.
inline std::vector<double> zdt(const std::vector<double>& x, bool concave) {
  double g = 0;
  for (size_t i = 1; i < x.size(); ++i) g += x[i];
  g = 1 + 9 * g / static_cast<double>(x.size() - 1);
  const double ratio = x[0] / g;
  const double h = concave ? 1 - ratio * ratio : 1 - std::sqrt(ratio);
  return {x[0], g * h};
}

inline Study::MultiObjective zdt_objective(int dims, bool concave) {
  return [dims, concave](Trial& t) {
    std::vector<double> x;
    for (int i = 0; i < dims; ++i)
      x.push_back(t.suggest_float(std::string("x").append(std::to_string(i)), 0, 1));
    return zdt(x, concave);
  };
}

// The best value a study found minus the function's optimum.
inline double regret(const Study& study, const TestFunction& fn) {
  return study.best_value() - fn.optimum;
}

}  // namespace nabla::hpo::testing
