// Schemes, choose_qparams against PyTorch's formulas, quantize/dequantize and int4 packing.
#include <cmath>
#include <limits>

#include "autograd/ops.h"
#include "core/creation.h"
#include "core/generator.h"
#include "quant/qscheme.h"
#include "quant_testing.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::quant;
using nabla::testing::error_of;
using nabla::testing::values;
using namespace nabla::quant_testing;

TEST_CASE("QScheme: integer ranges of int8, uint8 and int4, with and without reduce_range") {
  struct Row {
    QDType dtype;
    bool reduce;
    int64_t qmin, qmax;
    DType storage;
  };
  for (const Row& r :
       {Row{QDType::int8, false, -128, 127, kInt8}, Row{QDType::int8, true, -64, 63, kInt8},
        Row{QDType::uint8, false, 0, 255, kUInt8}, Row{QDType::uint8, true, 0, 127, kUInt8},
        Row{QDType::int4, false, -8, 7, kInt8}, Row{QDType::int4, true, -4, 3, kInt8}}) {
    QScheme s{.dtype = r.dtype, .reduce_range = r.reduce};
    CAPTURE(s.to_string());
    CHECK(s.qmin() == r.qmin);
    CHECK(s.qmax() == r.qmax);
    CHECK(s.storage_dtype() == r.storage);
  }
  QScheme per_channel{.channel_axis = -1};
  CHECK(per_channel.axis_for(4, "test") == 3);
  CHECK(per_channel.to_string() == "int8 affine per-channel(axis=-1) [-128, 127]");
  // narrow_range gives up the most negative value of the signed types only.
  CHECK(QScheme{.narrow_range = true}.qmin() == -127);
  CHECK(QScheme{.dtype = QDType::int4, .narrow_range = true}.qmin() == -7);
  CHECK(QScheme{.dtype = QDType::uint8, .narrow_range = true}.qmin() == 0);
  CHECK(QScheme{.dtype = QDType::int8, .reduce_range = true, .narrow_range = true}.qmin() == -63);
  CHECK(QScheme{.mode = QMode::symmetric, .narrow_range = true}.to_string() ==
        "int8 symmetric per-tensor narrow_range [-127, 127]");
  CHECK(error_of([&] { per_channel.axis_for(0, "quantize"); }) ==
        "quantize: channel axis -1 is out of range for a 0-d tensor (expected 0 to -1)");
  QScheme axis2{.channel_axis = 2};
  CHECK(error_of([&] { axis2.axis_for(2, "quantize"); }) ==
        "quantize: channel axis 2 is out of range for a 2-d tensor (expected -2 to 1)");
}

TEST_CASE("choose_qparams: affine uint8 and int8 match PyTorch's formulas") {
  // PyTorch (MinMaxObserver, quint8, affine): min -1, max 3 -> scale 4/255,
  // zero_point = 0 - round(-1 / (4/255)) = round(63.75) = 64.
  QParams p = choose_qparams(f32({-1}), f32({3}), {.dtype = QDType::uint8});
  CHECK(p.scale.item<float>() == doctest::Approx(4.0 / 255).epsilon(1e-7));
  CHECK(p.zero_point.item<int64_t>() == 64);
  CHECK(p.scale.shape() == Shape{1});
  // int8: zero_point = -128 - round(-1 / (4/255)) = -128 + 64 = -64.
  p = choose_qparams(f32({-1}), f32({3}), {.dtype = QDType::int8});
  CHECK(p.zero_point.item<int64_t>() == -64);
  // A positive-only range still includes 0: [0, 2] -> scale 2/255, zero_point 0.
  p = choose_qparams(f32({0.5}), f32({2}), {.dtype = QDType::uint8});
  CHECK(p.scale.item<float>() == doctest::Approx(2.0 / 255).epsilon(1e-7));
  CHECK(p.zero_point.item<int64_t>() == 0);
  // A negative-only range: [-2, 0] -> zero_point = 255 for uint8.
  p = choose_qparams(f32({-2}), f32({-0.5}), {.dtype = QDType::uint8});
  CHECK(p.zero_point.item<int64_t>() == 255);
  // reduce_range uint8 [0, 127]: scale 4/127, zero_point = round(127/4) = round(31.75) = 32.
  p = choose_qparams(f32({-1}), f32({3}), {.dtype = QDType::uint8, .reduce_range = true});
  CHECK(p.scale.item<float>() == doctest::Approx(4.0 / 127).epsilon(1e-7));
  CHECK(p.zero_point.item<int64_t>() == 32);
  // int4 affine: scale 4/15, zero_point = -8 - round(-3.75) = -8 + 4 = -4.
  p = choose_qparams(f32({-1}), f32({3}), {.dtype = QDType::int4});
  CHECK(p.scale.item<float>() == doctest::Approx(4.0 / 15).epsilon(1e-7));
  CHECK(p.zero_point.item<int64_t>() == -4);
}

TEST_CASE("choose_qparams: symmetric scales by max |x| over half the range") {
  // int8 symmetric: scale = max(1, 3) / (255 / 2) = 6/255, zero_point 0.
  QParams p = choose_qparams(f32({-1}), f32({3}), {.mode = QMode::symmetric});
  CHECK(p.scale.item<float>() == doctest::Approx(6.0 / 255).epsilon(1e-7));
  CHECK(p.zero_point.item<int64_t>() == 0);
  // uint8 symmetric: the same scale, zero_point the mid-point 128 (PyTorch's quint8 value).
  p = choose_qparams(f32({-4}), f32({3}), {.dtype = QDType::uint8, .mode = QMode::symmetric});
  CHECK(p.scale.item<float>() == doctest::Approx(8.0 / 255).epsilon(1e-7));
  CHECK(p.zero_point.item<int64_t>() == 128);
  p = choose_qparams(f32({-4}), f32({3}),
                     {.dtype = QDType::uint8, .mode = QMode::symmetric, .reduce_range = true});
  CHECK(p.scale.item<float>() == doctest::Approx(8.0 / 127).epsilon(1e-7));
  CHECK(p.zero_point.item<int64_t>() == 64);
  // int4 symmetric: scale = 3 / 7.5 = 0.4.
  p = choose_qparams(f32({-1}), f32({3}), {.dtype = QDType::int4, .mode = QMode::symmetric});
  CHECK(p.scale.item<float>() == doctest::Approx(0.4).epsilon(1e-7));
  CHECK(p.zero_point.item<int64_t>() == 0);
  // narrow_range: [-127, 127], scale = 3 / 127, and -3 and 3 both land exactly on a value.
  p = choose_qparams(f32({-3}), f32({3}), {.mode = QMode::symmetric, .narrow_range = true});
  CHECK(p.scale.item<float>() == doctest::Approx(3.0 / 127).epsilon(1e-7));
  CHECK(quantize(f32({-3, 3}), p).to_vector<int8_t>() == std::vector<int8_t>{-127, 127});
}

TEST_CASE("choose_qparams: an all-zero range gets float32's epsilon as its scale") {
  QParams p = choose_qparams(f32({0}), f32({0}), {.dtype = QDType::uint8});
  CHECK(p.scale.item<float>() == std::numeric_limits<float>::epsilon());
  CHECK(p.zero_point.item<int64_t>() == 0);
  p = choose_qparams(f32({0}), f32({0}), {.mode = QMode::symmetric});
  CHECK(p.scale.item<float>() == std::numeric_limits<float>::epsilon());
}

TEST_CASE("choose_qparams: per-channel ranges give one scale and zero point each") {
  QScheme s{.dtype = QDType::uint8, .channel_axis = 0};
  QParams p = choose_qparams(f32({-1, 0, -2}), f32({3, 5.1f, -1}), s);
  REQUIRE(p.scale.shape() == Shape{3});
  testing::check_close(p.scale, {4.0 / 255, 5.1 / 255, 2.0 / 255}, 1e-6);
  CHECK(p.zero_point.to_vector<int64_t>() == std::vector<int64_t>{64, 0, 255});
}

TEST_CASE("choose_qparams: bad ranges are errors that name the op and the values") {
  CHECK(error_of([] { choose_qparams(f32({2}), f32({1}), {}); }) ==
        "choose_qparams: range 0 has min 2 > max 1");
  CHECK(error_of([] {
          choose_qparams(f32({1, 2}), f32({3, 4}), {});
        }) ==
        "choose_qparams: scheme int8 affine per-tensor [-128, 127] is per-tensor but min has 2 "
        "elements (shape [2])");
  CHECK(error_of([] {
          choose_qparams(f32({1, 2}), f32({3}), {.channel_axis = 0});
        }) == "choose_qparams: min [2] and max [1] must have the same number of elements");
  float inf = std::numeric_limits<float>::infinity();
  CHECK(error_of([&] { choose_qparams(f32({inf}), f32({-inf}), {}); }) ==
        "choose_qparams: range 0 is [inf, -inf], not finite (has the observer seen any data?)");
  CHECK(error_of([] { choose_qparams(from_vector<int64_t>({0}), f32({1}), {}); }) ==
        "choose_qparams: min and max must be floating point, got int64 and float32");
}

TEST_CASE("quantize: rounds half to even, then clamps to the range") {
  QParams p = params(0.5f, 10, {.dtype = QDType::uint8});
  // x / 0.5 = 0.5, 1.5, 2.5, -0.5 round to 0, 2, 2, -0 (half to even), plus 10.
  Tensor x = f32({0.25f, 0.75f, 1.25f, -0.25f, 1000.0f, -1000.0f});
  Tensor q = quantize(x, p);
  CHECK(q.dtype() == kUInt8);
  CHECK(q.to_vector<uint8_t>() == std::vector<uint8_t>{10, 12, 12, 10, 255, 0});
  // Dequantize maps back: (q - 10) * 0.5; the clamped ends come back at the range's ends.
  testing::check_close(dequantize(q, p), {0, 1, 1, 0, 122.5, -5});
  Tensor qi = quantize(f32({-1000.0f, 1000.0f}), params(1.0f, 0, {.dtype = QDType::int4}));
  CHECK(qi.to_vector<int8_t>() == std::vector<int8_t>{-8, 7});
  qi = quantize(f32({-1000.0f, 1000.0f}), params(1.0f, 0, {.reduce_range = true}));
  CHECK(qi.to_vector<int8_t>() == std::vector<int8_t>{-64, 63});
}

TEST_CASE("quantize/dequantize: the round trip is within scale/2 inside the range") {
  for (QScheme s : {QScheme{.dtype = QDType::uint8}, QScheme{.dtype = QDType::int8},
                    QScheme{.dtype = QDType::int4}, QScheme{.mode = QMode::symmetric},
                    QScheme{.dtype = QDType::uint8, .reduce_range = true}}) {
    CAPTURE(s.to_string());
    manual_seed(3);
    Tensor x = rand({1000}) * 5.0 - 2.0;  // in [-2, 3)
    QParams p = choose_qparams(f32({-2}), f32({3}), s);
    double scale = p.scale.item<double>();
    std::vector<double> xs = values(x), back = values(dequantize(quantize(x, p), p));
    double worst = 0;
    for (size_t i = 0; i < xs.size(); ++i) worst = std::max(worst, std::abs(xs[i] - back[i]));
    // The symmetric range [-3, 3] has its own scale; every scheme's error stays below half of it
    // (plus float32 rounding of x / scale).
    CHECK(worst <= scale / 2 * (1 + 1e-5));
    CHECK(worst > scale / 4);  // 1000 uniform points: the error reaches near its bound
  }
}

TEST_CASE("quantize: per-channel along axes 0, 1 and -1") {
  // x: [2, 3, 4], value = channel-dependent ramp.
  Tensor x = reshape(arange(24, {.dtype = kFloat32}), {2, 3, 4}) * 0.1;
  for (int64_t axis : {0, 1, -1}) {
    CAPTURE(axis);
    int64_t a = axis < 0 ? axis + 3 : axis;
    int64_t channels = x.size(a);
    // Each channel gets its own scale: 0.01 * (c + 1), zero_point c.
    std::vector<float> scales;
    std::vector<int64_t> zps;
    for (int64_t c = 0; c < channels; ++c) {
      scales.push_back(0.01f * (c + 1));
      zps.push_back(c);
    }
    QParams p{.scale = f32(scales),
              .zero_point = from_vector<int64_t>(zps),
              .scheme = {.channel_axis = axis}};
    Tensor q = quantize(x, p);
    CHECK(q.shape() == x.shape());
    std::vector<double> xs = values(x);
    std::vector<int8_t> qs = q.to_vector<int8_t>();
    std::vector<double> back = values(dequantize(q, p));
    for (int64_t i = 0; i < 24; ++i) {
      int64_t index[3] = {i / 12, (i / 4) % 3, i % 4};
      int64_t c = index[a];
      double expected = std::clamp(std::nearbyint(xs[i] / scales[c]) + c, -128.0, 127.0);
      CHECK(qs[i] == expected);
      CHECK(back[i] == doctest::Approx((expected - c) * scales[c]).epsilon(1e-6));
    }
  }
}

TEST_CASE("quantize/dequantize: bad inputs are errors that name the op and the values") {
  QParams p = params(0.1f, 0, {});
  CHECK(error_of([&] { quantize(from_vector<int64_t>({1}), p); }) ==
        "quantize: x must be float32 or float64, got int64");
  CHECK(error_of([&] { dequantize(from_vector<uint8_t>({1}), p); }) ==
        "dequantize: scheme int8 affine per-tensor [-128, 127] stores int8 values, got a uint8 "
        "tensor");
  QParams per_channel{.scale = f32({0.1f, 0.2f}),
                      .zero_point = from_vector<int64_t>({0, 0}),
                      .scheme = {.channel_axis = 1}};
  CHECK(error_of([&] {
          quantize(zeros({2, 3}), per_channel);
        }) == "quantize: tensor [2, 3] has 3 channels along axis 1 but scale has 2");
  QParams mismatch{.scale = f32({0.1f, 0.2f}),
                   .zero_point = from_vector<int64_t>({0}),
                   .scheme = {.channel_axis = 0}};
  CHECK(error_of([&] { quantize(zeros({2}), mismatch); }) ==
        "quantize: scale [2] and zero_point [1] must both be [1] or both [C]");
  CHECK(error_of([&] { quantize(zeros({2}), params(0.0f, 0, {})); }) ==
        "quantize: scale[0] is 0; scales must be positive and finite");
  CHECK(error_of([&] { quantize(zeros({2}), params(1.0f, 300, {.dtype = QDType::uint8})); }) ==
        "quantize: zero_point[0] is 300, outside the scheme's range [0, 255]");
  QParams axis5{
      .scale = f32({1}), .zero_point = from_vector<int64_t>({0}), .scheme = {.channel_axis = 5}};
  CHECK(error_of([&] { quantize(zeros({2}), axis5); }) ==
        "quantize: channel axis 5 is out of range for a 1-d tensor (expected -1 to 0)");
  QParams wrong_dtype{.scale = from_vector<double>({1}), .zero_point = from_vector<int64_t>({0})};
  CHECK(error_of([&] { quantize(zeros({2}), wrong_dtype); }) ==
        "quantize: scale must be float32, got float64");
}

TEST_CASE("pack_int4/unpack_int4: two values a byte, odd counts round-trip") {
  Tensor q = from_vector<int8_t>({-8, 7, -1, 0, 3}, {5});
  PackedInt4 packed = pack_int4(q);
  REQUIRE(packed.data.numel() == 3);
  // Low nibble first: (-8 -> 0x8) | (7 << 4) = 0x78; (-1 -> 0xF) | 0 = 0x0F; 3 and padding 0.
  CHECK(packed.data.to_vector<uint8_t>() == std::vector<uint8_t>{0x78, 0x0F, 0x03});
  Tensor back = unpack_int4(packed);
  CHECK(back.shape() == Shape{5});
  CHECK(back.to_vector<int8_t>() == std::vector<int8_t>{-8, 7, -1, 0, 3});

  Tensor grid = from_vector<int8_t>({1, -2, 3, -4, 5, -6}, {2, 3});
  Tensor grid_back = unpack_int4(pack_int4(grid));
  CHECK(grid_back.shape() == Shape{2, 3});
  CHECK(grid_back.to_vector<int8_t>() == grid.to_vector<int8_t>());

  // From quantize with an int4 scheme: the values fit.
  QParams p = choose_qparams(f32({-1}), f32({1}), {.dtype = QDType::int4});
  Tensor qx = quantize(f32({-1, -0.3f, 0.2f, 1}), p);
  CHECK(unpack_int4(pack_int4(qx)).to_vector<int8_t>() == qx.to_vector<int8_t>());

  CHECK(error_of([] {
          pack_int4(from_vector<int8_t>({0, 9}));
        }) == "pack_int4: element 1 is 9, outside int4's range [-8, 7]");
  CHECK(error_of([] { pack_int4(from_vector<uint8_t>({0})); }) ==
        "pack_int4: values must be int8, got uint8");
  CHECK(error_of([] { unpack_int4({.data = from_vector<uint8_t>({0}), .shape = {3}}); }) ==
        "unpack_int4: 3 values (shape [3]) need 2 bytes, got 1");
}
