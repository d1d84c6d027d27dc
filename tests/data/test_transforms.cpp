// Transforms: hand-computed crops (reflect and zero padding), flips, cutout squares and
// normalization; random transforms draw only from their stream.
#include <doctest/doctest.h>

#include <set>

#include "core/creation.h"
#include "core/ops.h"
#include "data/cifar.h"
#include "data/transforms.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::data;

namespace {

// [1, 3, 3] holding 1..9 row by row.
Tensor three_by_three(DType dtype = kUInt8) {
  return core::to(from_vector<float>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 3, 3}), dtype);
}

std::vector<int64_t> ints(const Tensor& t) { return t.to_vector<int64_t>(); }

}  // namespace

TEST_CASE("crop with reflect padding mirrors about the edge without repeating it") {
  // Padded by 1 (reflect), the image is
  //   5 4 5 6 5
  //   2 1 2 3 2
  //   5 4 5 6 5
  //   8 7 8 9 8
  //   5 4 5 6 5
  Tensor x = three_by_three();
  CHECK(ints(crop(x, 0, 0, 3, 3, 1, Padding::reflect)) ==
        std::vector<int64_t>{5, 4, 5, 2, 1, 2, 5, 4, 5});
  CHECK(ints(crop(x, 2, 2, 3, 3, 1, Padding::reflect)) ==
        std::vector<int64_t>{5, 6, 5, 8, 9, 8, 5, 6, 5});
  CHECK(ints(crop(x, 0, 1, 2, 4, 1, Padding::reflect)) ==
        std::vector<int64_t>{4, 5, 6, 5, 1, 2, 3, 2});
  CHECK(ints(crop(x, 1, 1, 3, 3, 1, Padding::reflect)) == ints(x));
  // Two pixels of reflection reach row 2 above row 0.
  CHECK(ints(crop(x, 0, 2, 1, 3, 2, Padding::reflect)) == std::vector<int64_t>{7, 8, 9});
  CHECK_THROWS_WITH_AS(crop(x, 0, 0, 3, 3, 3, Padding::reflect),
                       doctest::Contains("must be smaller than the image"), ValueError);
}

TEST_CASE("crop with zero padding, on float and uint8, several channels") {
  Tensor x = three_by_three(kFloat32);
  testing::check_close(crop(x, 0, 0, 3, 3, 1, Padding::zero), {0, 0, 0, 0, 1, 2, 0, 4, 5});
  testing::check_close(crop(x, 2, 1, 3, 3, 1, Padding::zero), {4, 5, 6, 7, 8, 9, 0, 0, 0});
  CHECK(ints(crop(three_by_three(), 1, 0, 2, 2)) == std::vector<int64_t>{4, 5, 7, 8});
  // Channel 1 is channel 0 plus 10: every channel takes the same window.
  Tensor two = core::cat({x, core::binary(BinaryOp::add, x, 10.0)}, 0);
  testing::check_close(crop(two, 1, 1, 2, 2, 1), {1, 2, 4, 5, 11, 12, 14, 15});
  CHECK_THROWS_WITH_AS(crop(x, 0, 1, 3, 3), doctest::Contains("does not fit"), ValueError);
  CHECK_THROWS_AS(crop(zeros({3, 3}), 0, 0, 1, 1), ShapeError);
}

TEST_CASE("hflip mirrors each row, on a transposed view too") {
  CHECK(ints(hflip(three_by_three())) == std::vector<int64_t>{3, 2, 1, 6, 5, 4, 9, 8, 7});
  Tensor t = core::transpose(three_by_three(kFloat32), 1, 2);  // rows 1 4 7 / 2 5 8 / 3 6 9
  testing::check_close(hflip(t), {7, 4, 1, 8, 5, 2, 9, 6, 3});
}

TEST_CASE("cutout fills the square around its centre, clipped to the image") {
  Tensor x = core::to(core::view(arange(1, 17), {1, 4, 4}), kUInt8);
  // size 2 at (1, 1): rows 0..1, columns 0..1.
  CHECK(ints(cutout(x, 1, 1, 2)) ==
        std::vector<int64_t>{0, 0, 3, 4, 0, 0, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
  // size 3 at (0, 3): rows -1..1 and columns 2..4, clipped to rows 0..1, columns 2..3.
  CHECK(ints(cutout(x, 0, 3, 3, 99)) ==
        std::vector<int64_t>{1, 2, 99, 99, 5, 6, 99, 99, 9, 10, 11, 12, 13, 14, 15, 16});
  CHECK(ints(x)[0] == 1);  // the input is untouched
}

TEST_CASE("to_float scales uint8 by 1/255, normalize is per channel") {
  Tensor u = from_vector<uint8_t>({0, 51, 255, 102}, {2, 1, 2});
  Tensor f = to_float(u);
  CHECK(f.dtype() == kFloat32);
  testing::check_close(f, {0, 0.2, 1, 0.4});
  Tensor n = normalize(f, {0.5f, 0.2f}, {0.5f, 0.1f});
  testing::check_close(n, {-1, -0.6, 8, 2});
  testing::check_close(normalize(f, {1.0f}, {2.0f}), {-0.5, -0.4, 0, -0.3});
  CHECK_THROWS_WITH_AS(normalize(u, {0}, {1}), doctest::Contains("to_float"), DTypeError);
  CHECK_THROWS_WITH_AS(normalize(f, {0, 0, 0}, {1, 1, 1}),
                       doctest::Contains("3 means and 3 stds for an input of 2 channels"),
                       ShapeError);
  CHECK_THROWS_AS(Normalize({0.5f}, {0.0f}), ValueError);
}

TEST_CASE("RandomCrop takes a window at a uniform offset, decided by the stream alone") {
  Tensor x = core::to(core::view(arange(0, 3 * 8 * 8), {3, 8, 8}), kUInt8);
  RandomCrop transform(8, 2, Padding::reflect);
  std::set<std::pair<int64_t, int64_t>> offsets;
  for (uint64_t position = 0; position < 400; ++position) {
    RandomStream r = RandomStream::for_sample(3, 0, position);
    Tensor y = transform(x, r);
    RandomStream again = RandomStream::for_sample(3, 0, position);
    CHECK(ints(transform(x, again)) == ints(y));
    // The window must be one of the 25 crops of the padded image.
    bool found = false;
    for (int64_t top = 0; top <= 4 && !found; ++top)
      for (int64_t left = 0; left <= 4 && !found; ++left)
        if (ints(crop(x, top, left, 8, 8, 2, Padding::reflect)) == ints(y)) {
          offsets.insert({top, left});
          found = true;
        }
    CHECK(found);
  }
  CHECK(offsets.size() == 25);
}

TEST_CASE("RandomHorizontalFlip flips about half the time, Cutout with p = 0 never cuts") {
  Tensor x = three_by_three();
  RandomHorizontalFlip flip;
  int flipped = 0;
  for (uint64_t position = 0; position < 2000; ++position) {
    RandomStream r = RandomStream::for_sample(11, 2, position);
    flipped += ints(flip(x, r)) == ints(hflip(x));
  }
  CHECK(flipped > 900);
  CHECK(flipped < 1100);
  RandomStream r = RandomStream::for_sample(0, 0, 0);
  CHECK(ints(Cutout(2, 0.0)(x, r)) == ints(x));
  RandomStream r1 = RandomStream::for_sample(0, 0, 1);
  std::vector<int64_t> cut = ints(Cutout(1, 1.0)(x, r1));
  CHECK(std::count(cut.begin(), cut.end(), 0) == 1);
}

TEST_CASE("Compose chains transforms, the CIFAR-10 training pipeline gives normalized floats") {
  Tensor img = core::to(full({3, 32, 32}, 128), kUInt8);
  RandomStream r = RandomStream::for_sample(0, 0, 0);
  Tensor y = (*cifar10_train_transform())(img, r);
  CHECK(y.dtype() == kFloat32);
  CHECK(y.shape() == Shape{3, 32, 32});
  std::vector<double> v = testing::values(y);
  // A constant image stays constant under crop (reflect) and flip.
  CHECK(v[0] == doctest::Approx((128 / 255.0 - 0.4914) / 0.2470).epsilon(1e-5));
  CHECK(v[1024 + 5] == doctest::Approx((128 / 255.0 - 0.4822) / 0.2435).epsilon(1e-5));
  CHECK(v[2048 + 1000] == doctest::Approx((128 / 255.0 - 0.4465) / 0.2616).epsilon(1e-5));
}

TEST_CASE("RandomStream: the same (seed, epoch, position) gives the same draws") {
  RandomStream a = RandomStream::for_sample(1, 2, 3), b = RandomStream::for_sample(1, 2, 3);
  RandomStream c = RandomStream::for_sample(1, 2, 4), d = RandomStream::for_sample(1, 3, 3);
  std::vector<uint32_t> va, vb, vc, vd;
  for (int i = 0; i < 9; ++i) {
    va.push_back(a.next_u32());
    vb.push_back(b.next_u32());
    vc.push_back(c.next_u32());
    vd.push_back(d.next_u32());
  }
  CHECK(va == vb);
  CHECK(va != vc);
  CHECK(va != vd);
  RandomStream u = RandomStream::for_shuffle(5, 0);
  int64_t low = 0, high = 0;
  for (int i = 0; i < 10000; ++i) {
    int64_t k = u.uniform_int(-2, 3);
    low += k == -2;
    high += k == 2;
    CHECK(k >= -2);
    CHECK(k < 3);
  }
  CHECK(low > 1800);
  CHECK(high > 1800);
}
