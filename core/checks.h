// Argument checks shared by the ops in core/ and autograd/.
#pragma once

#include "core/tensor.h"

namespace nabla {

inline void check_defined(const Tensor& t, const char* op) {
  NABLA_CHECK(t.defined(), ValueError, op, ": got an undefined tensor");
}

// Ops never move data between devices behind the caller's back.
inline void check_same_device(const Tensor& a, const Tensor& b, const char* op) {
  check_defined(a, op);
  check_defined(b, op);
  NABLA_CHECK(a.device() == b.device(), DeviceError, op, ": tensors are on different devices (",
              a.device(), " and ", b.device(), "); move one with to()");
}

inline void check_dim(const Tensor& t, int64_t dim, const char* op, const char* what) {
  NABLA_CHECK(t.dim() == dim, ShapeError, op, ": ", what, " must be ", dim, "-d, got shape ",
              t.shape());
}

inline void check_index_dtype(const Tensor& index, const char* op) {
  NABLA_CHECK(index.dtype() == kInt64, DTypeError, op, ": indices must be int64, got ",
              index.dtype());
}

}  // namespace nabla
