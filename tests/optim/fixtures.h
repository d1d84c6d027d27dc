// Reading the committed PyTorch fixtures of tests/reference/ (found next to this file, so the
// tests need neither torch nor a path from the build).
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/creation.h"

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

}  // namespace nabla::testing
