// Creating tensors: filled, ranged, random, or wrapping memory the caller already has.
#pragma once

#include <vector>

#include "core/storage.h"
#include "core/tensor.h"

namespace nabla {

struct TensorOptions {
  DType dtype = kFloat32;
  Device device = Device::cpu();
  bool requires_grad = false;
};

// Uninitialized memory from the device's (caching) allocator.
Tensor empty(const Shape& shape, TensorOptions options = {});
Tensor zeros(const Shape& shape, TensorOptions options = {});
Tensor ones(const Shape& shape, TensorOptions options = {});
Tensor full(const Shape& shape, double value, TensorOptions options = {});
// A 0-d tensor holding `value`.
Tensor scalar_tensor(double value, TensorOptions options = {});

// [0, end) and [start, end) by `step`; the count is ceil((end - start) / step).
Tensor arange(double end, TensorOptions options = {});
Tensor arange(double start, double end, double step = 1, TensorOptions options = {});
// `steps` points from start to end inclusive.
Tensor linspace(double start, double end, int64_t steps, TensorOptions options = {});
Tensor eye(int64_t n, TensorOptions options = {});
Tensor eye(int64_t n, int64_t m, TensorOptions options = {});

// Uniform on [0, 1), standard normal, and integers in [low, high) (int64 unless told otherwise),
// from the device's default generator (nabla::manual_seed).
Tensor rand(const Shape& shape, TensorOptions options = {});
Tensor randn(const Shape& shape, TensorOptions options = {});
Tensor randint(int64_t low, int64_t high, const Shape& shape,
               TensorOptions options = {.dtype = kInt64});

// Copies `values` (row-major) into a new tensor of shape `shape` (default: 1-d).
template <class T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape = {},
                   TensorOptions options = {.dtype = dtype_of<T>()});
// Wraps memory without copying; `deleter` (default: none) runs when the last view lets go.
Tensor from_blob(void* data, const Shape& shape, DType dtype, Storage::Deleter deleter = {});

Tensor empty_like(const Tensor& t);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);
Tensor rand_like(const Tensor& t);
Tensor randn_like(const Tensor& t);

namespace detail {
Tensor from_host_bytes(const void* data, size_t count, DType source, const Shape& shape,
                       TensorOptions options);
}

template <class T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape, TensorOptions options) {
  Shape resolved = shape.empty() ? Shape{static_cast<int64_t>(values.size())} : shape;
  return detail::from_host_bytes(values.data(), values.size(), dtype_of<T>(), resolved, options);
}

}  // namespace nabla
