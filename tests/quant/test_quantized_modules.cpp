// The int8 modules against their float references (dequantize, float op, quantize): QuantizedConv2d
// and QuantizedLinear within one output step (the int32 sums are exact, the float reference's are
// not), QuantizedAdd bit-exact against a scalar loop, uint8 pooling exact, DynamicQuantizedLinear
// close to float; printing, state dicts and errors.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/creation.h"
#include "core/generator.h"
#include "core/ops.h"
#include "int8_reference.h"
#include "nn/linear.h"
#include "quant/quantized_add.h"
#include "quant/quantized_conv.h"
#include "quant/quantized_dynamic_linear.h"
#include "quant/quantized_io.h"
#include "quant/quantized_linear.h"
#include "quant/quantized_pool.h"
#include "quant/quantized_weight.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::quant;
using namespace nabla::quant::testing;
using nabla::testing::error_of;

namespace {

Tensor random_uint8(const Shape& shape, int lo, int hi, uint32_t seed) {
  return from_vector(random_values<uint8_t>(size_t(numel(shape)), lo, hi, seed), shape);
}

// The largest |a - b| over two uint8 tensors of one shape, and how many elements differ.
std::pair<int, int64_t> uint8_difference(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  const auto av = a.to_vector<int>(), bv = b.to_vector<int>();
  int worst = 0;
  int64_t differ = 0;
  for (size_t i = 0; i < av.size(); ++i) {
    worst = std::max(worst, std::abs(av[i] - bv[i]));
    differ += av[i] != bv[i];
  }
  return {worst, differ};
}

double max_abs_difference(const Tensor& a, const Tensor& b) {
  const auto av = a.to_vector<double>(), bv = b.to_vector<double>();
  REQUIRE(av.size() == bv.size());
  double worst = 0;
  for (size_t i = 0; i < av.size(); ++i) worst = std::max(worst, std::fabs(av[i] - bv[i]));
  return worst;
}

const EdgeQParams kInput{.scale = 0.02f, .zero_point = 3};
const EdgeQParams kOutput{.scale = 0.05f, .zero_point = 120};

}  // namespace

TEST_CASE("quantize_uint8 matches quantize() and dequantize_uint8 inverts it within half a step") {
  manual_seed(1);
  const Tensor x = core::binary(BinaryOp::mul, randn({4, 37}), 2.0);
  const QParams qp =
      choose_qparams(from_vector<float>({-3.0f}, {1}), from_vector<float>({5.0f}, {1}),
                     QScheme{.dtype = QDType::uint8});
  const EdgeQParams edge = EdgeQParams::from(qp, "test");
  CHECK(edge.zero_point == qp.zero_point.item<int64_t>());
  const Tensor q = Quantize(edge)(x);
  CHECK(q.dtype() == kUInt8);
  CHECK(uint8_difference(q, quantize(x, qp)).first == 0);
  const Tensor back = Dequantize(edge)(q);
  // Inside the range the error is at most half a step; outside it is clamped.
  const auto xv = x.to_vector<float>(), bv = back.to_vector<float>();
  for (size_t i = 0; i < xv.size(); ++i)
    if (xv[i] > -3.0f && xv[i] < 5.0f) CHECK(std::fabs(xv[i] - bv[i]) <= edge.scale * 0.5f + 1e-6f);
  // An int8 scheme moves to uint8 by 128.
  const QParams s8 =
      choose_qparams(from_vector<float>({-1.0f}, {1}), from_vector<float>({1.0f}, {1}),
                     QScheme{.dtype = QDType::int8});
  const EdgeQParams e8 = EdgeQParams::from(s8, "test");
  CHECK(e8.zero_point == s8.zero_point.item<int64_t>() + 128);
  CHECK(e8.qmin == 0);
  CHECK(e8.qmax == 255);
}

TEST_CASE("quantize_weight_per_channel: scales max|w| / 127, values within half a step") {
  const Tensor w =
      from_vector<float>({0.5f, -1.0f, 0.25f, 0.0f, 0.0f, 0.0f, 2.54f, 0.01f, -2.54f}, {3, 3});
  const QuantizedWeight q = quantize_weight_per_channel(w);
  nabla::testing::check_close(q.scale, {1.0 / 127, std::numeric_limits<float>::epsilon(), 0.02},
                              1e-6);
  CHECK(q.weight.to_vector<int>() == std::vector<int>({64, -127, 32, 0, 0, 0, 127, 0, -127}));
  CHECK(max_abs_difference(dequantize_weight(q.weight, q.scale), w) <= 0.01 + 1e-6);
}

TEST_CASE("QuantizedConv2d is within one output step of its float reference") {
  manual_seed(2);
  struct Case {
    int64_t c, o, k, stride, pad, groups;
    bool relu, float_output;
  };
  for (const Case& c : {Case{3, 8, 3, 1, 1, 1, false, false}, Case{8, 16, 3, 2, 1, 1, true, false},
                        Case{8, 8, 3, 1, 1, 4, true, false}, Case{4, 6, 1, 1, 0, 1, false, true},
                        Case{6, 5, 3, 2, 0, 1, true, true}}) {
    CAPTURE(c.c);
    CAPTURE(c.stride);
    CAPTURE(c.groups);
    const QuantizedWeight w = quantize_weight_per_channel(
        core::binary(BinaryOp::mul, randn({c.o, c.c / c.groups, c.k, c.k}), 0.3));
    const Tensor bias = randn({c.o});
    Conv2dParams p;
    p.stride[0] = p.stride[1] = c.stride;
    p.padding[0] = p.padding[1] = c.pad;
    p.groups = c.groups;
    QuantizedConv2d conv(w.weight, w.scale, bias, p, kInput,
                         c.float_output ? std::nullopt : std::optional(kOutput), c.relu);
    const Tensor x = random_uint8({2, c.c, 9, 9}, 0, 255, 7);
    const Tensor y = conv(x), ref = conv.reference_forward(x);
    if (c.float_output) {
      CHECK(y.dtype() == kFloat32);
      // The int32 sum is exact; the float path rounds its sums: 1e-4 absolute on values ~10.
      CHECK(max_abs_difference(y, ref) < 1e-4);
    } else {
      const auto [worst, differ] = uint8_difference(y, ref);
      CHECK(worst <= 1);
      CHECK(differ * 100 <= y.numel());  // ties of the rounding only: under 1% of elements
    }
    if (c.relu) {
      const auto v = y.to_vector<double>();
      CHECK(*std::min_element(v.begin(), v.end()) >=
            (c.float_output ? 0.0 : double(kOutput.zero_point)));
    }
  }
}

TEST_CASE("QuantizedLinear is within one output step of its float reference") {
  manual_seed(3);
  const QuantizedWeight w =
      quantize_weight_per_channel(core::binary(BinaryOp::mul, randn({12, 40}), 0.2));
  const Tensor bias = randn({12});
  const Tensor x = random_uint8({5, 40}, 0, 255, 11);
  QuantizedLinear q8(w.weight, w.scale, bias, kInput, kOutput, true);
  const auto [worst, differ] = uint8_difference(q8(x), q8.reference_forward(x));
  CHECK(worst <= 1);
  CHECK(differ * 50 <= 60);
  QuantizedLinear qf(w.weight, w.scale, bias, kInput, std::nullopt, false);
  CHECK(max_abs_difference(qf(x), qf.reference_forward(x)) < 1e-4);
  // A batch dim of more than one.
  const Tensor x3 = random_uint8({2, 3, 40}, 0, 255, 12);
  CHECK(qf(x3).shape() == Shape({2, 3, 12}));
  CHECK(max_abs_difference(qf(x3), qf.reference_forward(x3)) < 1e-4);
}

TEST_CASE("QuantizedAdd is bit-exact against a scalar loop, with and without ReLU") {
  const Shape shape = {3, 5, 7, 11};  // 1155 elements: vector bodies and a tail
  const Tensor a = random_uint8(shape, 0, 255, 21), b = random_uint8(shape, 0, 255, 22);
  struct Case {
    EdgeQParams a, b, out;
  };
  const Case cases[] = {
      {{0.02f, 128}, {0.03f, 10}, {0.04f, 100}},
      {{0.1f, 0}, {0.1f, 0}, {0.01f, 0}},           // saturates at 255 often
      {{0.013f, 77}, {0.5f, 200}, {0.3f, 255}},     // zero point at the top
      {{0.05f, 3}, {0.05f, 3}, {0.1f, 3, 0, 127}},  // a reduced range
  };
  for (const Case& c : cases) {
    for (bool relu : {false, true}) {
      const Tensor out = QuantizedAdd(c.a, c.b, c.out, relu).add(a, b);
      const auto av = a.to_vector<int>(), bv = b.to_vector<int>(), ov = out.to_vector<int>();
      const float ma = c.a.scale / c.out.scale, mb = c.b.scale / c.out.scale;
      const int64_t lo = relu ? std::max(c.out.qmin, c.out.zero_point) : c.out.qmin;
      int64_t mismatches = 0;
      for (size_t i = 0; i < av.size(); ++i) {
        const float v =
            std::fma(float(av[i] - c.a.zero_point), ma, float(bv[i] - c.b.zero_point) * mb);
        const int64_t r =
            std::clamp<int64_t>(int64_t(std::nearbyint(v)) + c.out.zero_point, lo, c.out.qmax);
        mismatches += r != ov[i];
      }
      CHECK(mismatches == 0);
      // And against float addition: within one step plus clamping.
      const Tensor sum =
          core::binary(BinaryOp::add, dequantize_uint8(a, c.a), dequantize_uint8(b, c.b));
      const Tensor ref = quantize_uint8(relu ? core::unary(UnaryOp::relu, sum) : sum, c.out);
      CHECK(uint8_difference(out, ref).first <= 1);
    }
  }
}

TEST_CASE("uint8 max pooling equals core's max pooling; global average rounds the mean") {
  const Tensor x = random_uint8({2, 3, 9, 8}, 0, 255, 31);
  Pool2dParams p;
  for (auto [k, s, pad] : {std::tuple{2, 2, 0}, std::tuple{3, 1, 1}, std::tuple{3, 2, 1}}) {
    p.kernel[0] = p.kernel[1] = k;
    p.stride[0] = p.stride[1] = s;
    p.padding[0] = p.padding[1] = pad;
    const Tensor y = QuantizedMaxPool2d(p)(x);
    const Tensor ref = core::max_pool2d(core::to(x, kFloat32), p).first;
    CHECK(y.dtype() == kUInt8);
    CHECK(max_abs_difference(y, ref) == 0);
  }
  const Tensor g = QuantizedGlobalAvgPool2d()(x);
  CHECK(g.shape() == Shape({2, 3, 1, 1}));
  const auto xv = x.to_vector<int>(), gv = g.to_vector<int>();
  for (int64_t plane = 0; plane < 6; ++plane) {
    int sum = 0;
    for (int64_t i = 0; i < 72; ++i) sum += xv[size_t(plane * 72 + i)];
    CHECK(gv[size_t(plane)] == int(std::nearbyint(sum / 72.0)));
  }
}

TEST_CASE("DynamicQuantizedLinear is close to the float Linear and to its reference") {
  manual_seed(4);
  nn::Linear linear(64, 10);
  const Tensor x = randn({8, 64});
  const QuantizedWeight w = quantize_weight_per_channel(linear.weight());
  DynamicQuantizedLinear dq(w.weight, w.scale, linear.bias());
  const Tensor y = dq(x), ref = dq.reference_forward(x);
  CHECK(max_abs_difference(y, ref) < 1e-4);
  const Tensor yf = linear(x);
  // Per-batch uint8 activations (step ~0.03) and int8 weights: a few hundredths on outputs ~0.6.
  const double rel =
      max_abs_difference(y, yf) /
      core::reduce(ReduceOp::max, core::unary(UnaryOp::abs, yf), {}, false).item<double>();
  CHECK(rel < 0.05);
  const EdgeQParams e = DynamicQuantizedLinear::activation_qparams(x);
  const double lo = core::reduce(ReduceOp::min, x, {}, false).item<double>();
  const double hi = core::reduce(ReduceOp::max, x, {}, false).item<double>();
  CHECK(e.scale == doctest::Approx((hi - lo) / 255).epsilon(1e-5));
}

TEST_CASE("int8 modules print their configuration and keep int8 state in the state dict") {
  const QuantizedWeight w = quantize_weight_per_channel(randn({4, 3, 3, 3}));
  Conv2dParams p;
  p.padding[0] = p.padding[1] = 1;
  QuantizedConv2d conv(w.weight, w.scale, Tensor(), p, kInput, kOutput, true);
  std::ostringstream os;
  os << conv;
  CHECK(os.str() ==
        "QuantizedConv2d(in_channels=3, out_channels=4, kernel_size=(3, 3), stride=(1, 1), "
        "padding=(1, 1), input=(scale=0.02, zero_point=3), output=(scale=0.05, "
        "zero_point=120), relu=true)");
  std::vector<std::string> names;
  for (const auto& [name, t] : conv.state_dict()) names.push_back(name);
  CHECK(names == std::vector<std::string>({"weight", "weight_scale", "bias", "input_scale",
                                           "input_zero_point", "input_qrange", "output_scale",
                                           "output_zero_point", "output_qrange"}));
  CHECK(conv.state_dict()[0].second.dtype() == kInt8);
  // Loading another conv's state and refreshing gives that conv's outputs exactly.
  const QuantizedWeight w2 = quantize_weight_per_channel(randn({4, 3, 3, 3}));
  QuantizedConv2d other(w2.weight, w2.scale, randn({4}), p, {0.03f, 9}, EdgeQParams{0.07f, 100},
                        true);
  const Tensor x = random_uint8({1, 3, 6, 6}, 0, 255, 41);
  conv.load_state_dict(other.state_dict());
  conv.refresh();
  CHECK(conv.input_qparams() == EdgeQParams{0.03f, 9});
  CHECK(uint8_difference(conv(x), other(x)).first == 0);
}

TEST_CASE("int8 modules name themselves and the offending values in errors") {
  const QuantizedWeight w = quantize_weight_per_channel(randn({4, 8}));
  QuantizedLinear linear(w.weight, w.scale, Tensor(), kInput, kOutput, false);
  CHECK(error_of([&] {
          linear(randn({2, 8}));
        }) == "QuantizedLinear::forward: input must be uint8 (quantized), got float32 [2, 8]");
  CHECK(error_of([&] {
          linear(random_uint8({2, 7}, 0, 9, 1));
        }) == "QuantizedLinear::forward: input [2, 7] does not end in 8 features");
  CHECK(error_of([&] {
          QuantizedLinear(w.scale, w.scale, Tensor(), kInput, kOutput, false);
        }).starts_with("QuantizedLinear::QuantizedLinear: the weight must be int8 with 2 dims"));
  CHECK(error_of([&] {
          QuantizedAdd(kInput, kInput, kOutput, false)(random_uint8({2}, 0, 1, 1));
        }).starts_with("QuantizedAdd::forward: an add takes two inputs"));
  CHECK(error_of([&] {
          quantized_add(random_uint8({2, 3}, 0, 1, 1), kInput, random_uint8({3, 2}, 0, 1, 1),
                        kInput, kOutput, false);
        }) == "quantized_add: shapes [2, 3] and [3, 2] differ (no broadcasting)");
  CHECK(error_of([] {
          Quantize(EdgeQParams{.scale = 0.1f, .zero_point = 300});
        }).starts_with("Quantize: an activation needs 0 <= qmin <= zero_point <= qmax <= 255"));
  const QParams per_channel =
      choose_qparams(zeros({3}), ones({3}), QScheme{.dtype = QDType::uint8, .channel_axis = 0});
  CHECK(error_of([&] {
          EdgeQParams::from(per_channel, "convert");
        }).starts_with("convert: an activation needs per-tensor qparams"));
}
