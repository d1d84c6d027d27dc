// gather, scatter_add, index_select, index_add, one_hot and masked_fill; out-of-range indices are
// errors, never reads past the end.
#include <doctest/doctest.h>

#include "nabla.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::testing;

TEST_CASE("gather and scatter_add along each dim") {
  Tensor x = reshape(arange(6), {2, 3});  // [[0 1 2] [3 4 5]]
  Tensor idx = from_vector<int64_t>({2, 0, 1, 1}, {2, 2});
  CHECK(values(gather(x, 1, idx)) == std::vector<double>{2, 0, 4, 4});
  CHECK(values(gather(x, 0, from_vector<int64_t>({1, 0, 1}, {1, 3}))) ==
        std::vector<double>{3, 1, 5});
  Tensor out = scatter_add(zeros({2, 3}), 1, idx, ones({2, 2}));
  CHECK(values(out) == std::vector<double>{1, 0, 1, 0, 2, 0});  // repeated indices add up
  CHECK(values(gather(transpose(x, 0, 1), 0, from_vector<int64_t>({1, 2}, {2, 1}))) ==
        std::vector<double>{1, 2});
}

TEST_CASE("index_select and index_add") {
  Tensor x = reshape(arange(6), {3, 2});
  Tensor idx = from_vector<int64_t>({2, 0, 2});
  CHECK(values(index_select(x, 0, idx)) == std::vector<double>{4, 5, 0, 1, 4, 5});
  CHECK(values(index_select(x, 1, from_vector<int64_t>({1}))) == std::vector<double>{1, 3, 5});
  Tensor added = index_add(zeros({3, 2}), 0, idx, ones({3, 2}));
  CHECK(values(added) == std::vector<double>{1, 1, 0, 0, 2, 2});
}

TEST_CASE("one_hot and masked_fill") {
  Tensor labels = from_vector<int64_t>({2, 0, 1});
  Tensor oh = one_hot(labels, 3);
  CHECK(oh.dtype() == kInt64);
  CHECK(values(oh) == std::vector<double>{0, 0, 1, 1, 0, 0, 0, 1, 0});
  CHECK_THROWS_WITH_AS(one_hot(labels, 2), doctest::Contains("label 2 is outside [0, 2)"),
                       IndexError);
  Tensor x = from_vector<float>({1, 2, 3});
  CHECK(values(masked_fill(x, x > 1.5, -1)) == std::vector<double>{1, -1, -1});
}

TEST_CASE("indices are checked before any kernel reads through them") {
  Tensor x = zeros({2, 3});
  CHECK_THROWS_WITH_AS(gather(x, 1, from_vector<int64_t>({3}, {1, 1})),
                       "gather: index 3 is out of range for a dim of size 3", IndexError);
  CHECK_THROWS_AS(gather(x, 1, from_vector<int64_t>({-1}, {1, 1})), IndexError);
  CHECK_THROWS_AS(index_select(x, 0, from_vector<int64_t>({2})), IndexError);
  CHECK_THROWS_AS(scatter_add(x, 0, from_vector<int64_t>({5}, {1, 1}), ones({1, 1})), IndexError);
  CHECK_THROWS_AS(index_add(x, 1, from_vector<int64_t>({0}), ones({2, 2})), ShapeError);
  CHECK_THROWS_AS(gather(x, 1, from_vector<int32_t>({0}, {1, 1})), DTypeError);
  CHECK_THROWS_AS(gather(x, 1, zeros({3, 1}, {.dtype = kInt64})), ShapeError);
}
