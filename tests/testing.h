// Helpers shared by the test modules: a tensor's values, closeness checks, error messages.
#pragma once

#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"

namespace nabla::testing {

inline std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

// Each element of t within relative tolerance `eps` of `expected`, in row-major order.
inline void check_close(const Tensor& t, const std::vector<double>& expected, double eps = 1e-5) {
  std::vector<double> got = values(t);
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i)
    CHECK(got[i] == doctest::Approx(expected[i]).epsilon(eps));
}

// The message of the nabla::Error that f throws, or "" if it throws none.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace nabla::testing
