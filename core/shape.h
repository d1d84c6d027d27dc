// Shapes and strides (in elements), and the index arithmetic shared by every op: numel,
// contiguous strides, dimension wrapping and NumPy broadcasting.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <vector>

namespace nabla {

// A list of sizes (or strides) that prints as [2, 3]; a std::vector in every other respect.
struct Shape : std::vector<int64_t> {
  using std::vector<int64_t>::vector;
};
using Strides = Shape;

std::ostream& operator<<(std::ostream& os, const Shape& shape);

int64_t numel(const Shape& shape);
Strides contiguous_strides(const Shape& shape);

// Maps a possibly negative dim into [0, ndim); `op` names the caller in the IndexError.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);

// The sorted, unique, wrapped dims of `dims`; an empty list means every dim.
std::vector<int64_t> normalize_dims(const std::vector<int64_t>& dims, int64_t ndim, const char* op);

// NumPy broadcasting: align from the right, sizes must match or be 1.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace nabla
