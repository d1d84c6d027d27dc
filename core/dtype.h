// Element types: the DType enum, its properties, type promotion, and dispatch from a DType to a C++
// type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>

#include "core/error.h"
#include "core/half.h"

namespace nabla {

enum class DType : uint8_t {
  float32,
  float64,
  float16,
  bfloat16,
  int64,
  int32,
  uint8,
  int8,
  bool_
};

inline constexpr DType kFloat32 = DType::float32;
inline constexpr DType kFloat64 = DType::float64;
inline constexpr DType kFloat16 = DType::float16;
inline constexpr DType kBFloat16 = DType::bfloat16;
inline constexpr DType kInt64 = DType::int64;
inline constexpr DType kInt32 = DType::int32;
inline constexpr DType kUInt8 = DType::uint8;
inline constexpr DType kInt8 = DType::int8;
inline constexpr DType kBool = DType::bool_;

size_t itemsize(DType dtype);
const char* name(DType dtype);
std::ostream& operator<<(std::ostream& os, DType dtype);

inline bool is_floating(DType d) {
  return d == kFloat32 || d == kFloat64 || d == kFloat16 || d == kBFloat16;
}
// float16 and bfloat16 are storage formats on the CPU: they convert, they do not compute.
inline bool is_half(DType d) { return d == kFloat16 || d == kBFloat16; }

// The dtype a binary op computes in, after PyTorch's rules: floating beats integral beats bool, and
// within a kind the wider type wins (int8 with uint8 gives int32, the narrowest type holding both).
DType promote_types(DType a, DType b);

template <class T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return kFloat32;
}
template <>
constexpr DType dtype_of<double>() {
  return kFloat64;
}
template <>
constexpr DType dtype_of<Half>() {
  return kFloat16;
}
template <>
constexpr DType dtype_of<BFloat16>() {
  return kBFloat16;
}
template <>
constexpr DType dtype_of<int64_t>() {
  return kInt64;
}
template <>
constexpr DType dtype_of<int32_t>() {
  return kInt32;
}
template <>
constexpr DType dtype_of<uint8_t>() {
  return kUInt8;
}
template <>
constexpr DType dtype_of<int8_t>() {
  return kInt8;
}
template <>
constexpr DType dtype_of<bool>() {
  return kBool;
}

// Which dtypes a kernel is written for; dispatch to any other is a DTypeError naming the op.
enum class DTypeSet { floating, numeric, all };

// Calls fn.template operator()<T>() with the C++ type T of `dtype`:
//   visit_dtype<DTypeSet::floating>(x.dtype(), "exp", [&]<class T>() { ... });
template <DTypeSet set = DTypeSet::numeric, class Fn>
decltype(auto) visit_dtype(DType dtype, const char* op, Fn&& fn) {
  switch (dtype) {
    case DType::float32:
      return fn.template operator()<float>();
    case DType::float64:
      return fn.template operator()<double>();
    default:
      break;
  }
  if constexpr (set != DTypeSet::floating) {
    switch (dtype) {
      case DType::int64:
        return fn.template operator()<int64_t>();
      case DType::int32:
        return fn.template operator()<int32_t>();
      case DType::uint8:
        return fn.template operator()<uint8_t>();
      case DType::int8:
        return fn.template operator()<int8_t>();
      case DType::bool_:
        return fn.template operator()<bool>();
      default:
        break;
    }
  }
  if constexpr (set == DTypeSet::all) {
    switch (dtype) {
      case DType::float16:
        return fn.template operator()<Half>();
      case DType::bfloat16:
        return fn.template operator()<BFloat16>();
      default:
        break;
    }
  }
  throw DTypeError(detail::concat(op, ": dtype ", name(dtype), " is not supported",
                                  is_half(dtype) ? " on the CPU (convert with to(kFloat32))" : ""));
}

}  // namespace nabla
