// DType properties and promotion.
#include "core/dtype.h"

#include <ostream>

namespace nabla {

size_t itemsize(DType dtype) {
  switch (dtype) {
    case DType::float64:
    case DType::int64:
      return 8;
    case DType::float32:
    case DType::int32:
      return 4;
    case DType::float16:
    case DType::bfloat16:
      return 2;
    case DType::uint8:
    case DType::int8:
    case DType::bool_:
      return 1;
  }
  NABLA_ASSERT(false);
}

const char* name(DType dtype) {
  switch (dtype) {
    case DType::float32:
      return "float32";
    case DType::float64:
      return "float64";
    case DType::float16:
      return "float16";
    case DType::bfloat16:
      return "bfloat16";
    case DType::int64:
      return "int64";
    case DType::int32:
      return "int32";
    case DType::uint8:
      return "uint8";
    case DType::int8:
      return "int8";
    case DType::bool_:
      return "bool";
  }
  NABLA_ASSERT(false);
}

std::ostream& operator<<(std::ostream& os, DType dtype) { return os << name(dtype); }

namespace {
// Within one kind, the rank orders types by what they can hold.
int rank(DType d) {
  switch (d) {
    case DType::bool_:
      return 0;
    case DType::uint8:
    case DType::int8:
      return 1;
    case DType::int32:
      return 2;
    case DType::int64:
      return 3;
    case DType::float16:
    case DType::bfloat16:
      return 4;
    case DType::float32:
      return 5;
    case DType::float64:
      return 6;
  }
  NABLA_ASSERT(false);
}
}  // namespace

DType promote_types(DType a, DType b) {
  if (a == b) return a;
  if ((a == kInt8 && b == kUInt8) || (a == kUInt8 && b == kInt8)) return kInt32;
  if (is_half(a) && is_half(b)) return kFloat32;
  return rank(a) >= rank(b) ? a : b;
}

}  // namespace nabla
