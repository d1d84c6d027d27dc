// NaN tests that compile for every element type (integers are never NaN).
#pragma once

#include <cmath>
#include <type_traits>

namespace nabla::cpu {

template <class T>
inline bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    return std::isnan(v);
  } else {
    return false;
  }
}

}  // namespace nabla::cpu
