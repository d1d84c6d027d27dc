// The int8 convolution: every kernel this CPU runs, bit-exact against a direct integer
// convolution (padding read as the zero point, stride, dilation, groups, 1x1, odd sizes), the
// fused requantization on top, the thread split, and the errors.
#include "core/creation.h"
#include "core/parallel.h"
#include "int8_reference.h"
#include "quant/int8_conv.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::quant;
using namespace nabla::quant::testing;

namespace {

struct ConvCase {
  int64_t n, c, h, w, o, kh, kw;
  int64_t stride = 1, pad = 0, dil = 1, groups = 1;
  Conv2dParams params() const {
    Conv2dParams p;
    p.stride[0] = p.stride[1] = stride;
    p.padding[0] = p.padding[1] = pad;
    p.dilation[0] = p.dilation[1] = dil;
    p.groups = groups;
    return p;
  }
};

const ConvCase kCases[] = {
    {2, 3, 8, 8, 16, 3, 3, 1, 1},          // "same" 3x3, a first layer's 3 channels
    {1, 16, 9, 7, 16, 3, 3, 1, 1},         // odd plane
    {3, 5, 11, 13, 7, 3, 3, 2, 1},         // stride 2, odd sizes, channels off the tiles
    {1, 4, 10, 10, 5, 3, 3, 1, 2, 2},      // dilation 2
    {2, 8, 6, 6, 12, 3, 3, 1, 1, 1, 4},    // groups
    {1, 6, 5, 5, 6, 3, 3, 1, 1, 1, 6},     // depthwise
    {2, 16, 8, 8, 32, 1, 1},               // 1x1
    {1, 16, 8, 8, 8, 1, 1, 2},             // 1x1 stride 2 (a ResNet shortcut)
    {1, 2, 7, 9, 3, 2, 5, 1, 2},           // rectangular kernel, padding 2
    {1, 1, 1, 1, 1, 1, 1},                 // one pixel
    {1, 3, 4, 4, 2, 5, 5, 1, 2},           // kernel larger than the image, padded
    {2, 32, 16, 16, 64, 3, 3, 1, 1},       // the small CNN's second layer
    {1, 17, 5, 21, 19, 3, 3, 3, 1, 1, 1},  // stride 3
    {2, 8, 9, 34, 16, 3, 3, 2, 1},         // stride 2, output rows of 17: whole panels in a row
    {1, 4, 5, 50, 5, 3, 3, 3, 1, 2},       // stride 3 and dilation 2 on wide rows
};

struct ConvData {
  std::vector<uint8_t> xv;
  std::vector<int8_t> wv;
  Shape xs, ws;
  Tensor x;
  PackedInt8Weight w;
};

ConvData make(const ConvCase& c, int x_max, uint32_t seed, bool extremes = false) {
  ConvData d;
  d.xs = {c.n, c.c, c.h, c.w};
  d.ws = {c.o, c.c / c.groups, c.kh, c.kw};
  d.xv = random_values<uint8_t>(size_t(numel(d.xs)), 0, x_max, seed, extremes);
  d.wv = random_values<int8_t>(size_t(numel(d.ws)), -127, 127, seed + 1, extremes);
  d.x = from_vector<uint8_t>(d.xv, d.xs);
  d.w = PackedInt8Weight(from_vector<int8_t>(d.wv, d.ws), full({1}, 0.01), c.groups);
  return d;
}

}  // namespace

TEST_CASE("int8 conv2d: every kernel is bit-exact against the direct integer convolution") {
  uint32_t seed = 1;
  for (Int8Kernel kernel : kernels_to_test()) {
    const int x_max = int8_needs_7bit(kernel) ? 127 : 255;
    for (const ConvCase& c : kCases) {
      for (int64_t zp : {int64_t{0}, int64_t{x_max / 2 + 1}, int64_t{x_max}}) {
        for (bool extremes : {false, true}) {
          const ConvData d = make(c, x_max, seed++, extremes);
          int64_t oh, ow;
          const std::vector<int32_t> want =
              conv_reference(d.xv, d.wv, d.xs, d.ws, c.params(), zp, oh, ow);
          const Tensor got = int8_conv2d_int32(d.x, zp, d.w, c.params(), kernel);
          REQUIRE(got.shape() == Shape{c.n, c.o, oh, ow});
          const std::vector<int32_t> have = got.to_vector<int32_t>();
          int64_t wrong = 0;
          for (size_t i = 0; i < want.size(); ++i) wrong += have[i] != want[i];
          CHECK_MESSAGE(wrong == 0, "kernel ", std::string(name(kernel)), " case c ", c.c, " h ",
                        c.h, " w ", c.w, " o ", c.o, " k ", c.kh, "x", c.kw, " stride ", c.stride,
                        " pad ", c.pad, " dil ", c.dil, " groups ", c.groups, " zp ", zp, ": ",
                        wrong, " of ", want.size(), " differ");
        }
      }
    }
  }
}

TEST_CASE("int8 conv2d: fused requantization and float output match the int32 sums") {
  const ConvCase c{3, 8, 9, 9, 20, 3, 3, 1, 1};
  uint32_t seed = 300;
  for (Int8Kernel kernel : kernels_to_test()) {
    const int x_max = int8_needs_7bit(kernel) ? 127 : 255;
    const ConvData d = make(c, x_max, seed++);
    const int64_t zp = 37;
    int64_t oh, ow;
    const std::vector<int32_t> acc = conv_reference(d.xv, d.wv, d.xs, d.ws, c.params(), zp, oh, ow);
    std::vector<float> bias;
    for (int64_t o = 0; o < c.o; ++o) bias.push_back(0.3f * float(o) - 2.0f);
    const float x_scale = 0.04f, w_scale = 0.01f, out_scale = 0.05f;
    const int64_t plane = oh * ow;
    for (bool relu : {false, true}) {
      const Requantization r = Requantization::to_uint8(out_scale, 120, relu);
      const std::vector<uint8_t> q =
          int8_conv2d(d.x, zp, x_scale, d.w, from_vector<float>(bias), c.params(), r, kernel)
              .to_vector<uint8_t>();
      const std::vector<float> f = int8_conv2d(d.x, zp, x_scale, d.w, from_vector<float>(bias),
                                               c.params(), Requantization::to_float(relu), kernel)
                                       .to_vector<float>();
      int64_t wrong_q = 0, wrong_f = 0;
      for (size_t i = 0; i < acc.size(); ++i) {
        const int64_t o = int64_t(i) / plane % c.o;
        const float mult = x_scale * w_scale / out_scale, off = bias[size_t(o)] / out_scale;
        wrong_q += q[i] != requantize_reference(acc[i], mult, off, 120, relu ? 120 : 0, 255);
        float want = std::fma(float(acc[i]), x_scale * w_scale, bias[size_t(o)]);
        if (relu) want = std::max(want, 0.0f);
        wrong_f += f[i] != want;
      }
      CHECK_MESSAGE(wrong_q == 0, "kernel ", std::string(name(kernel)), " relu ", relu);
      CHECK_MESSAGE(wrong_f == 0, "kernel ", std::string(name(kernel)), " relu ", relu);
    }
  }
}

TEST_CASE("int8 conv2d: one image or many, any thread count, the same result") {
  const ConvCase c{5, 16, 12, 12, 16, 3, 3, 1, 1};
  const ConvData d = make(c, 127, 77);
  const int before = get_num_threads();
  for (Int8Kernel kernel : kernels_to_test()) {
    std::vector<std::vector<int32_t>> results;
    for (int threads : {1, 2, 8}) {  // 8 > images: the images' panels are shared out
      set_num_threads(threads);
      results.push_back(int8_conv2d_int32(d.x, 3, d.w, c.params(), kernel).to_vector<int32_t>());
    }
    for (size_t i = 1; i < results.size(); ++i) CHECK(results[i] == results[0]);
  }
  set_num_threads(before);
}

TEST_CASE("int8 conv2d: errors name the op and the shapes") {
  const PackedInt8Weight w(full({8, 4, 3, 3}, 1, {.dtype = kInt8}), full({1}, 1.0));
  const Tensor x = full({1, 4, 6, 6}, 1, {.dtype = kUInt8});
  Conv2dParams p;
  using nabla::testing::error_of;
  const std::string channels = error_of([&] {
    int8_conv2d_int32(full({1, 3, 6, 6}, 1, {.dtype = kUInt8}), 0, w, p);
  });
  CHECK(channels.find("int8_conv2d_int32: input has 3 channels but weight expects 4") !=
        std::string::npos);
  CHECK(channels.find("[1, 3, 6, 6]") != std::string::npos);
  CHECK(channels.find("[8, 4, 3, 3]") != std::string::npos);
  CHECK(error_of([&] {
          int8_conv2d_int32(full({1, 4, 6, 6}, 1.0), 0, w, p);
        }).find("uint8") != std::string::npos);
  CHECK(error_of([&] {
          int8_conv2d_int32(full({4, 6, 6}, 1, {.dtype = kUInt8}), 0, w, p);
        }).find("[N, C, H, W]") != std::string::npos);
  CHECK(error_of([&] {
          int8_conv2d_int32(full({1, 4, 2, 2}, 1, {.dtype = kUInt8}), 0, w, p);
        }).find("larger than the padded input") != std::string::npos);
  Conv2dParams grouped;
  grouped.groups = 2;
  CHECK(error_of([&] { int8_conv2d_int32(x, 0, w, grouped); }).find("groups") != std::string::npos);
  Conv2dParams bad_stride;
  bad_stride.stride[0] = 0;
  CHECK_THROWS_AS(int8_conv2d_int32(x, 0, w, bad_stride), ValueError);
  const PackedInt8Weight linear(full({8, 36}, 1, {.dtype = kInt8}), full({1}, 1.0));
  CHECK(error_of([&] { int8_conv2d_int32(x, 0, linear, p); }).find("convolution's weight") !=
        std::string::npos);
  CHECK_THROWS_AS(PackedInt8Weight(full({8, 4, 3, 3}, 1, {.dtype = kInt8}), full({1}, 1.0), 3),
                  ValueError);
  if (int8_kernel_available(Int8Kernel::avx2_u7)) {
    Conv2dParams padded;
    padded.padding[0] = padded.padding[1] = 1;
    // The padding reads the zero point, 200 here: too wide for the 7-bit kernel.
    CHECK(error_of([&] {
            int8_conv2d_int32(x, 200, w, padded, Int8Kernel::avx2_u7);
          }).find("zero point") != std::string::npos);
    CHECK_NOTHROW(int8_conv2d_int32(x, 200, w, p, Int8Kernel::avx2_u7));  // no padding: fine
  }
}
