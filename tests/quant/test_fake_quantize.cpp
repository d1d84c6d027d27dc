// Fake quantization: forward values, the straight-through mask, LSQ's gradients against the
// formulas worked by hand, gradcheck where the function is differentiable, and the FakeQuantize
// module's switches and state.
#include <cmath>
#include <vector>

#include "autograd/engine.h"
#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "core/creation.h"
#include "quant/fake_quantize.h"
#include "quant/fake_quantize_module.h"
#include "quant/load_state.h"
#include "quant/minmax_observer.h"
#include "quant_testing.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::quant;
using nabla::testing::check_close;
using nabla::testing::error_of;
using nabla::testing::values;
using namespace nabla::quant_testing;

namespace {
// d(sum(w * f(x)))/dx by backward.
Tensor grad_of(const Tensor& x, const Tensor& y, const Tensor& w) {
  backward(sum(mul(y, w)));
  return x.grad();
}
}  // namespace

TEST_CASE("fake_quantize: equals dequantize(quantize(x)) per tensor and per channel") {
  QParams p = params(0.5f, 3, {.dtype = QDType::uint8});
  Tensor x = f32({-10, -1.3f, 0.26f, 0.75f, 100, 200});
  Tensor y = fake_quantize(x, p);
  CHECK(y.dtype() == kFloat32);
  CHECK(values(y) == values(dequantize(quantize(x, p), p)));
  // By hand: round(x / 0.5) + 3 clamped to [0, 255], minus 3, times 0.5.
  check_close(y, {-1.5, -1.5, 0.5, 1.0, 100, 126});

  QParams pc{.scale = f32({0.1f, 1.0f}),
             .zero_point = from_vector<int64_t>({0, -5}),
             .scheme = {.channel_axis = -1}};
  Tensor xc = f32({0.26f, 0.26f, 30, 30, -30, -30}, {3, 2});
  check_close(fake_quantize(xc, pc), {0.3, 0, 12.7, 30, -12.8, -30}, 1e-6);
  // float64 inputs stay float64.
  CHECK(fake_quantize(f64({0.26}), p).dtype() == kFloat64);
}

TEST_CASE("fake_quantize: the straight-through gradient is the in-range mask") {
  // int8, scale 0.5, zero_point 10: the range is [(-128 - 10) 0.5, (127 - 10) 0.5] = [-69, 58.5].
  QParams p = params(0.5f, 10, {});
  Tensor x = f32({-100, -69, -68.9f, 0.3f, 58.5f, 58.6f, 1000});
  x.requires_grad_();
  Tensor w = f32({1, 2, 3, 4, 5, 6, 7});
  Tensor g = grad_of(x, fake_quantize(x, p), w);
  // Inside (boundaries included) the gradient passes, outside it is 0.
  check_close(g, {0, 2, 3, 4, 5, 0, 0});

  // Per channel along axis 0: channel 1's range [-1.28, 1.27] clips 2, channel 0's does not.
  QParams pc{.scale = f32({1.0f, 0.01f}),
             .zero_point = from_vector<int64_t>({0, 0}),
             .scheme = {.channel_axis = 0}};
  Tensor xc = f32({2, -2, 2, -2}, {2, 2});
  xc.requires_grad_();
  check_close(grad_of(xc, fake_quantize(xc, pc), ones({2, 2})), {1, 1, 0, 0});
}

TEST_CASE("fake_quantize: gradcheck in float64 where the output is clamped") {
  // Inside the range fake_quantize is a staircase: its true derivative is 0 (or undefined at a
  // step) while the straight-through estimator gives 1, by design, so finite differences cannot
  // check it there. Where the output is clamped both are 0; the points sit well away from the
  // clamping boundaries (+-1e-6 steps cannot cross them).
  QParams p = params(0.25f, 0, {.dtype = QDType::int4});  // range [-2, 1.75]
  Tensor x = f64({-3.1, -2.6, 1.9, 5.0}, {2, 2});
  x.requires_grad_();
  auto f = [&](const std::vector<Tensor>& in) { return fake_quantize(in[0], p); };
  autograd::GradcheckResult r = autograd::gradcheck(f, {x});
  CHECK_MESSAGE(r.ok, r.message);
}

TEST_CASE("fake_quantize_learnable: LSQ gradients against the formulas, by hand") {
  // int4 affine [-8, 7], scale 0.5, zero_point 1.3 (rounded to 1 forward): v = x / 0.5 is inside
  // when -9 <= v <= 6.
  //   x      v      where   y                 d/dscale                 d/dzp
  //  -5.3  -10.6   below   (-8 - 1) 0.5=-4.5  qmin - zp = -9           -0.5
  //  -1.13  -2.26  inside  (-1 - 1) 0.5=-1    round(-1.26)-1+2.26=0.26  0
  //   0.37   0.74  inside  (2 - 1) 0.5=0.5    2 - 1 - 0.74 = 0.26       0
  //   1.61   3.22  inside  (4 - 1) 0.5=1.5    4 - 1 - 3.22 = -0.22      0
  //   2.9    5.8   inside  (7 - 1) 0.5=3      7 - 1 - 5.8 = 0.2         0
  //   4.4    8.8   above   (7 - 1) 0.5=3      qmax - zp = 6            -0.5
  // With upstream gradients w = 1..6 and grad_factor 1:
  //   d/dscale = -9 + 0.52 + 0.78 - 0.88 + 1 + 36 = 28.42, d/dzp = -0.5 - 3 = -3.5.
  QScheme scheme{.dtype = QDType::int4};
  Tensor x = f64({-5.3, -1.13, 0.37, 1.61, 2.9, 4.4});
  Tensor scale = f64({0.5}), zp = f64({1.3});
  x.requires_grad_();
  scale.requires_grad_();
  zp.requires_grad_();
  Tensor w = f64({1, 2, 3, 4, 5, 6});
  Tensor y = fake_quantize_learnable(x, scale, zp, scheme, 1.0);
  check_close(y, {-4.5, -1, 0.5, 1.5, 3, 3});
  backward(sum(mul(y, w)));
  check_close(x.grad(), {0, 2, 3, 4, 5, 0});
  check_close(scale.grad(), {28.42}, 1e-9);
  check_close(zp.grad(), {-3.5});

  // The default grad_factor is LSQ's 1 / sqrt(numel * qmax) = 1 / sqrt(6 * 7).
  CHECK(lsq_grad_factor(6, scheme) == doctest::Approx(1 / std::sqrt(42.0)));
  Tensor s2 = f64({0.5});
  s2.requires_grad_();
  backward(sum(mul(fake_quantize_learnable(x, s2, zp, scheme), w)));
  check_close(s2.grad(), {28.42 / std::sqrt(42.0)}, 1e-9);
}

TEST_CASE("fake_quantize_learnable: per-channel sums each channel's gradient") {
  // x: [2, 3] with channels on axis 0; int8 symmetric (zero point 0), scales 0.5 and 0.1.
  QScheme scheme{.mode = QMode::symmetric, .channel_axis = 0};
  std::vector<double> xs = {0.3, -0.8, 100, 0.27, -20, 1.04};
  std::vector<double> scales = {0.5, 0.1};
  Tensor x = f64(xs, {2, 3}), scale = f64(scales);
  x.requires_grad_();
  scale.requires_grad_();
  Tensor y = fake_quantize_learnable(x, scale, Tensor(), scheme, 1.0);
  backward(sum(y));
  // The formula, element by element.
  std::vector<double> expected_y(6), expected_dx(6), expected_ds(2, 0.0);
  for (int i = 0; i < 6; ++i) {
    int c = i / 3;
    double s = scales[c], v = xs[i] / s;
    bool inside = v >= -128 && v <= 127;
    expected_y[i] = std::clamp(std::nearbyint(v), -128.0, 127.0) * s;
    expected_dx[i] = inside ? 1 : 0;
    expected_ds[c] += inside ? std::nearbyint(v) - v : (v < -128 ? -128 : 127);
  }
  check_close(y, expected_y);
  check_close(x.grad(), expected_dx);
  check_close(scale.grad(), expected_ds, 1e-9);
  // By hand for channel 0: 0.6 -> 1 - 0.6 = 0.4; -1.6 -> -2 + 1.6 = -0.4; 200 clamps: 127.
  CHECK(expected_ds[0] == doctest::Approx(127));
}

TEST_CASE("fake_quantize_learnable: gradcheck where LSQ's gradient is the true derivative") {
  QScheme scheme{.dtype = QDType::int4};
  // (1) Where every value is clamped the output is (qmin - zp) scale or (qmax - zp) scale, so
  // d/dscale = qmin - zp or qmax - zp exactly as LSQ says; d/dx = 0 both ways.
  Tensor x = f64({-5.3, 4.4, 6.0, -7.7});
  Tensor scale = f64({0.5});
  x.requires_grad_();
  scale.requires_grad_();
  auto clamped = [&](const std::vector<Tensor>& in) {
    return fake_quantize_learnable(in[0], in[1], f64({1}), scheme, 1.0);
  };
  autograd::GradcheckResult r = autograd::gradcheck(clamped, {x, scale});
  CHECK_MESSAGE(r.ok, r.message);

  // (2) Inside the range the forward uses round(zero_point), so its true derivative in the
  // zero point is 0, as LSQ's is there. (Outside LSQ passes -scale on purpose: the zero point's
  // straight-through estimate.) zero_point 1.3 is far from a rounding point.
  Tensor inside_x = f64({-1.13, 0.37, 1.61});
  Tensor zp = f64({1.3});
  zp.requires_grad_();
  auto of_zp = [&](const std::vector<Tensor>& in) {
    return fake_quantize_learnable(inside_x, f64({0.5}), in[0], scheme, 1.0);
  };
  r = autograd::gradcheck(of_zp, {zp});
  CHECK_MESSAGE(r.ok, r.message);

  // (3) The backward is differentiable: its d/dscale term round(v + zp) - zp - v has derivative
  // -1/s in x and x/s^2 in s wherever v + zp is away from a half-integer (the rounding is locally
  // constant) and v away from the clamping bounds. These points keep v at least 0.04 away.
  Tensor mixed = f64({-5.3, -1.13, 0.37, 1.61, 2.9, 4.4});
  mixed.requires_grad_();
  auto both = [&](const std::vector<Tensor>& in) {
    return fake_quantize_learnable(in[0], in[1], f64({1}), scheme, 1.0);
  };
  r = autograd::gradgradcheck(both, {mixed, scale});
  CHECK_MESSAGE(r.ok, r.message);
}

TEST_CASE("fake_quantize ops: bad inputs are errors that name the op and the values") {
  QParams p = params(0.5f, 0, {.channel_axis = 1});
  CHECK(error_of([&] {
          fake_quantize(zeros({2, 3}), p);
        }) == "fake_quantize: tensor [2, 3] has 3 channels along axis 1 but scale has 1");
  CHECK(error_of([&] { fake_quantize(zeros({2}, {.dtype = kInt64}), params(1, 0, {})); }) ==
        "fake_quantize: x must be float32 or float64, got int64");
  CHECK(error_of([] { fake_quantize_learnable(zeros({2}), f32({-0.5f}), Tensor(), {}); }) ==
        "fake_quantize_learnable: scale[0] is -0.5; scales must be positive and finite");
  CHECK(error_of([] { fake_quantize_learnable(zeros({2}), f64({0.5}), Tensor(), {}); }) ==
        "fake_quantize_learnable: scale must have x's dtype float32, got float64");
  CHECK(error_of([] {
          fake_quantize_learnable(zeros({2}), f32({1, 2}), Tensor(), {});
        }) ==
        "fake_quantize_learnable: scheme int8 affine per-tensor [-128, 127] is per-tensor but "
        "scale has shape [2]");
  CHECK(error_of([] {
          fake_quantize_learnable(zeros({2}), f32({1}), f32({0, 1}), {.channel_axis = 0});
        }) == "fake_quantize_learnable: zero_point [2] must have scale's shape [1]");
}

TEST_CASE("FakeQuantize: observes, fake quantizes, and switches each part off") {
  FakeQuantize fq({.observer = ObserverKind::min_max,
                   .observer_options = {.scheme = {.dtype = QDType::uint8}}});
  Tensor x = f32({-1, 0.3f, 3});
  Tensor y = fq(x);
  // The observer saw [-1, 3]: scale 4/255, zero point 64, and the output is fake quantized.
  CHECK(fq.scale().item<float>() == doctest::Approx(4.0 / 255).epsilon(1e-7));
  CHECK(fq.zero_point().item<int64_t>() == 64);
  CHECK(values(y) == values(fake_quantize(x, fq.qparams())));
  CHECK(values(y)[1] != doctest::Approx(0.3).epsilon(1e-7));

  // Observer off: a wider batch leaves the qparams alone (and gets clipped).
  fq.enable_observer(false);
  Tensor wide = f32({-10, 10});
  check_close(fq(wide), {-64 * 4.0 / 255, 191 * 4.0 / 255}, 1e-6);
  CHECK(fq.zero_point().item<int64_t>() == 64);
  // Fake quantization off: x passes through unchanged.
  fq.enable_fake_quant(false);
  CHECK(values(fq(wide)) == std::vector<double>{-10, 10});
  CHECK_FALSE(fq.observer_enabled());
  CHECK_FALSE(fq.fake_quant_enabled());

  // The state dict keeps the qparams, the switches and the observer's range.
  nn::StateDict state = fq.state_dict();
  std::vector<std::string> names;
  for (const auto& [name, t] : state) names.push_back(name);
  CHECK(names == std::vector<std::string>{"scale", "zero_point", "observer_enabled",
                                          "fake_quant_enabled", "observer.min_val",
                                          "observer.max_val"});
  FakeQuantize restored({.observer = ObserverKind::min_max,
                         .observer_options = {.scheme = {.dtype = QDType::uint8}}});
  restored.load_state_dict(state);
  CHECK_FALSE(restored.fake_quant_enabled());
  CHECK(restored.zero_point().item<int64_t>() == 64);
  check_close(restored.observer().range().second, {3});
}

TEST_CASE("FakeQuantize: per-channel weights, and loading a calibrated checkpoint") {
  // A weight [3, 2] quantized int8 symmetric per output channel (axis 0).
  FakeQuantize fq({.observer = ObserverKind::min_max,
                   .observer_options = {.scheme = {.mode = QMode::symmetric, .channel_axis = 0}}});
  Tensor w = f32({0.5f, -1, 2, 0.1f, -0.2f, 0.3f}, {3, 2});
  Tensor y = fq(w);
  CHECK(fq.scale().shape() == Shape{3});
  check_close(fq.scale(), {1 / 127.5, 2 / 127.5, 0.3 / 127.5}, 1e-6);
  CHECK(fq.zero_point().to_vector<int64_t>() == std::vector<int64_t>{0, 0, 0});
  CHECK(values(y) == values(fake_quantize(w, fq.qparams())));

  // A fresh module has [1]-sized per-channel tensors; resize_quant_state gives them the
  // checkpoint's sizes so that the strict load succeeds.
  FakeQuantize fresh(
      {.observer = ObserverKind::min_max,
       .observer_options = {.scheme = {.mode = QMode::symmetric, .channel_axis = 0}}});
  nn::StateDict state = fq.state_dict();
  CHECK(error_of([&] {
          fresh.load_state_dict(state);
        }).find("scale (module [1], state dict [3])") != std::string::npos);
  resize_quant_state(fresh, state);
  fresh.load_state_dict(state);
  check_close(fresh.scale(), values(fq.scale()));
  check_close(fresh.observer().range().second, {0.5, 2, 0.3});
  CHECK(values(fresh(w)) == values(y));

  // A per-tensor module's qparams have no size to learn: a [3] scale in the state stays a
  // mismatch that the strict load reports.
  FakeQuantize per_tensor({.observer = ObserverKind::min_max});
  nn::StateDict wrong = per_tensor.state_dict();
  wrong[0].second = ones({3});
  resize_quant_state(per_tensor, wrong);
  CHECK(per_tensor.scale().shape() == Shape{1});
  CHECK(error_of([&] {
          per_tensor.load_state_dict(wrong);
        }).find("scale (module [1], state dict [3])") != std::string::npos);
}

TEST_CASE("FakeQuantize: LSQ learns its scale after the observer initializes it") {
  FakeQuantize fq({.observer = ObserverKind::min_max,
                   .observer_options = {.scheme = {.dtype = QDType::int4}},
                   .learnable = true,
                   .grad_factor = 1.0});
  CHECK(fq.scale().requires_grad());
  CHECK(fq.zero_point().requires_grad());
  Tensor calibration = f32({-4, 3.5f});
  fq(calibration);
  // Observer: [-4, 3.5] -> scale 7.5 / 15 = 0.5, zero point -8 - round(-8) = 0.
  CHECK(fq.scale().item<double>() == doctest::Approx(0.5));
  CHECK(fq.zero_point().item<double>() == 0);
  fq.enable_observer(false);

  Tensor x = f32({-5.3f, -1.13f, 0.37f, 1.61f, 2.9f, 4.4f});
  Tensor y = fq(x);
  backward(sum(y));
  // The same numbers from the op: range [-8, 7] in v = x / 0.5.
  Tensor s = f32({0.5f}), z = f32({0});
  s.requires_grad_();
  z.requires_grad_();
  backward(sum(fake_quantize_learnable(x, s, z, {.dtype = QDType::int4}, 1.0)));
  check_close(fq.scale().grad(), values(s.grad()), 1e-6);
  check_close(fq.zero_point().grad(), values(z.grad()), 1e-6);
  // By hand: -10.6 below (-8); -2.26 -> 0.26; 0.74 -> 0.26; 3.22 -> -0.22; 5.8 -> 0.2;
  // 8.8 above (7): sum -0.5.
  check_close(fq.scale().grad(), {-0.5}, 1e-5);

  // A symmetric scheme keeps its zero point out of training.
  FakeQuantize symmetric(
      {.observer_options = {.scheme = {.mode = QMode::symmetric}}, .learnable = true});
  CHECK_FALSE(symmetric.zero_point().requires_grad());
}
