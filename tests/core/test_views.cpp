// Views share storage and write through; view rules, strides and the errors for bad shapes.
#include <doctest/doctest.h>

#include "core/ops.h"
#include "nabla.h"

using namespace nabla;

TEST_CASE("views share storage and write through") {
  Tensor base = arange(12);
  Tensor v = view(base, {3, 4});
  Tensor t = transpose(v, 0, 1);
  Tensor s = select(v, 0, 1);       // row 1: 4 5 6 7
  Tensor c = slice(v, 1, 1, 4, 2);  // columns 1, 3
  for (const Tensor& view_ : {v, t, s, c}) CHECK(view_.storage() == base.storage());
  const uint64_t version = base.version();
  fill_(s, -1);
  CHECK(base.to_vector<float>()[5] == -1);
  CHECK(t.to_vector<float>() == std::vector<float>{0, -1, 8, 1, -1, 9, 2, -1, 10, 3, -1, 11});
  CHECK(c.to_vector<float>() == std::vector<float>{1, 3, -1, -1, 9, 11});
  CHECK(c.strides() == Strides{4, 2});
  CHECK(c.offset() == 1);
  CHECK(base.version() == version + 1);  // the fill bumped the shared version counter
}

TEST_CASE("view needs compatible strides, reshape copies when it must") {
  Tensor x = arange(6);
  Tensor m = view(x, {2, 3});
  Tensor t = transpose(m, 0, 1);
  CHECK_FALSE(t.is_contiguous());
  CHECK_THROWS_WITH_AS(view(t, {6}), doctest::Contains("without a copy (use reshape)"), ShapeError);
  Tensor r = reshape(t, {6});
  CHECK(r.storage() != x.storage());
  CHECK(r.to_vector<float>() == std::vector<float>{0, 3, 1, 4, 2, 5});
  CHECK(reshape(m, {3, 2}).storage() == x.storage());
  CHECK(view(m, {-1}).shape() == Shape{6});
  CHECK(view(unsqueeze(t, 0), {1, 3, 2}).shape() == Shape{1, 3, 2});  // size-1 dims view freely
  CHECK_THROWS_WITH_AS(view(x, {4, -1}), doctest::Contains("view"), ShapeError);
  CHECK_THROWS_AS(view(x, {-1, -1}), ShapeError);
  CHECK_THROWS_WITH_AS(view(x, {7}), doctest::Contains("holds 7 elements"), ShapeError);
}

TEST_CASE("permute, squeeze, unsqueeze, flatten, expand") {
  Tensor x = zeros({2, 1, 3});
  CHECK(permute(x, {2, 0, 1}).shape() == Shape{3, 2, 1});
  CHECK(permute(x, {2, 0, 1}).strides() == Strides{1, 3, 3});
  CHECK_THROWS_AS(permute(x, {0, 0, 1}), IndexError);
  CHECK(squeeze(x).shape() == Shape{2, 3});
  CHECK(squeeze(x, 0).shape() == Shape{2, 1, 3});
  CHECK(unsqueeze(x, -1).shape() == Shape{2, 1, 3, 1});
  CHECK(flatten(x).shape() == Shape{6});
  CHECK(flatten(zeros({2, 3, 4}), 1).shape() == Shape{2, 12});
  Tensor e = expand(x, {4, 2, 5, 3});
  CHECK(e.shape() == Shape{4, 2, 5, 3});
  CHECK(e.strides() == Strides{0, 3, 0, 1});
  CHECK_THROWS_WITH_AS(expand(x, {3, 1, 3}), doctest::Contains("cannot be expanded"), ShapeError);
}

TEST_CASE("slice and select clamp and check like Python") {
  Tensor x = arange(10);
  CHECK(slice(x, 0, -3, 100).to_vector<float>() == std::vector<float>{7, 8, 9});
  CHECK(slice(x, 0, 5, 2).numel() == 0);
  CHECK(select(x, 0, -1).item() == 9);
  CHECK_THROWS_AS(select(x, 0, 10), IndexError);
  CHECK_THROWS_AS(slice(x, 0, 0, 5, 0), ValueError);
  CHECK_THROWS_WITH_AS(slice(x, 2, 0, 1), doctest::Contains("dim 2 is out of range"), IndexError);
  CHECK_THROWS_AS(narrow(x, 0, 8, 5), IndexError);
}

TEST_CASE("cat, stack, split, chunk") {
  Tensor a = arange(4);
  Tensor b = add(arange(2), 10.0);
  CHECK(cat({a, b}).to_vector<float>() == std::vector<float>{0, 1, 2, 3, 10, 11});
  Tensor m = cat({view(a, {2, 2}), view(b, {2, 1})}, 1);
  CHECK(m.shape() == Shape{2, 3});
  CHECK(m.to_vector<float>() == std::vector<float>{0, 1, 10, 2, 3, 11});
  CHECK_THROWS_WITH_AS(cat({view(a, {2, 2}), view(b, {1, 2})}, 1),
                       doctest::Contains("only dim 1 may differ"), ShapeError);
  CHECK(stack({a, a}, 1).shape() == Shape{4, 2});
  std::vector<Tensor> pieces = split(arange(5), 2);
  REQUIRE(pieces.size() == 3);
  CHECK(pieces[2].to_vector<float>() == std::vector<float>{4});
  CHECK(chunk(arange(6), 4).size() == 3);
  CHECK(cat({a, from_vector<double>({9.0})}).dtype() == kFloat64);
}

TEST_CASE("copy_ broadcasts and converts into any layout") {
  Tensor dst = zeros({2, 3}, {.dtype = kFloat64});
  copy_(transpose(dst, 0, 1), from_vector<int64_t>({1, 2}));
  CHECK(dst.to_vector<double>() == std::vector<double>{1, 1, 1, 2, 2, 2});
  CHECK(contiguous(dst).is_same(dst));
  CHECK_FALSE(clone(dst).storage() == dst.storage());
}

TEST_CASE("ops refuse tensors on different devices") {
  // Only the CPU exists in this build's tests; a CUDA tensor cannot be made, and asking says why.
  CHECK_THROWS_AS(zeros({2}, {.device = Device::cuda()}), DeviceError);
}
