// Reading the committed PyTorch fixtures of tests/reference/ (found next to this file, so the
// tests need neither torch nor a path from the build).
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "core/creation.h"
#include "optim/options.h"

namespace nabla::testing {

inline nlohmann::json load_fixture(const std::string& name) {
  std::filesystem::path path =
      std::filesystem::path(__FILE__).parent_path().parent_path() / "reference" / name;
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "missing fixture ", path.string());
  return nlohmann::json::parse(in);
}

// A float64 tensor from {"shape": [...], "values": [...]}.
inline Tensor fixture_tensor(const nlohmann::json& j) {
  std::vector<int64_t> shape = j.at("shape").get<std::vector<int64_t>>();
  return from_vector<double>(j.at("values").get<std::vector<double>>(),
                             Shape(shape.begin(), shape.end()));
}

// |got - expected| <= rel * |expected| + abs, element by element.
inline void check_values(const std::vector<double>& got, const std::vector<double>& expected,
                         double rel, double abs, const std::string& what) {
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO(what, " element ", i, ": got ", got[i], ", expected ", expected[i]);
    CHECK(std::fabs(got[i] - expected[i]) <= rel * std::fabs(expected[i]) + abs);
  }
}

// Optimizer options from a fixture's JSON object, each value in its JSON type (the optimizer
// converts integers to reals where an option is real).
inline optim::OptionMap fixture_options(const nlohmann::json& j) {
  optim::OptionMap options;
  for (const auto& [name, value] : j.items()) {
    if (value.is_boolean()) {
      options.emplace(name, value.get<bool>());
    } else if (value.is_string()) {
      options.emplace(name, value.get<std::string>());
    } else if (value.is_number_integer()) {
      options.emplace(name, value.get<int64_t>());
    } else {
      options.emplace(name, value.get<double>());
    }
  }
  return options;
}

// The problem tests/reference/optimizers.py defines: data X [5, 3] and Y [5, 2], parameters w, b
// and v, and its loss.
struct ReferenceProblem {
  Tensor x, y;
  explicit ReferenceProblem(const nlohmann::json& fixture)
      : x(matrix(fixture.at("X"), 5, 3)), y(matrix(fixture.at("Y"), 5, 2)) {}

  // Fresh leaves holding the fixture's starting values.
  static std::map<std::string, Tensor> start(const nlohmann::json& fixture) {
    std::map<std::string, Tensor> p;
    for (const char* n : {"w", "b", "v"})
      p[n] = fixture_tensor(fixture.at("init").at(n)).requires_grad_();
    return p;
  }

  // mean((X @ w + b - Y)^2) + 0.25 * sum(v^4) + 0.1 * sum(v) * sum(w), as in the script.
  Tensor loss(const std::map<std::string, Tensor>& p) const {
    const Tensor &w = p.at("w"), &b = p.at("b"), &v = p.at("v");
    return mean(square(matmul(x, w) + b - y)) + 0.25 * sum(pow(v, 4.0)) + 0.1 * sum(v) * sum(w);
  }

 private:
  static Tensor matrix(const nlohmann::json& rows, int64_t n, int64_t m) {
    std::vector<double> flat;
    for (const auto& row : rows)
      for (double value : row) flat.push_back(value);
    return from_vector<double>(flat, {n, m});
  }
};

}  // namespace nabla::testing
