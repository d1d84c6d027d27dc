// Tensors: creation, metadata, element access, dtypes and printing.
#include <doctest/doctest.h>

#include <sstream>

#include "nabla.h"

using namespace nabla;

TEST_CASE("zeros, ones, full: shape, dtype, values") {
  Tensor z = zeros({2, 3});
  CHECK(z.shape() == Shape{2, 3});
  CHECK(z.dtype() == kFloat32);
  CHECK(z.numel() == 6);
  CHECK(z.is_contiguous());
  CHECK(z.strides() == Strides{3, 1});
  CHECK(ones({4}, {.dtype = kInt64}).to_vector<int64_t>() == std::vector<int64_t>{1, 1, 1, 1});
  CHECK(full({2}, 2.5, {.dtype = kFloat64}).to_vector<double>() == std::vector<double>{2.5, 2.5});
  CHECK(scalar_tensor(3).dim() == 0);
  CHECK(scalar_tensor(3).item() == 3.0);
}
