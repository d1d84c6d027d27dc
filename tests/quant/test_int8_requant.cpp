// The fused output step of the int8 products: uint8 requantization and float32 dequantization,
// bit-exact for every kernel against the formulas of int8_requant.h applied to the exact int32
// sums, and close to the float product of the dequantized operands.
#include <cmath>
#include <cstring>

#include "core/creation.h"
#include "int8_reference.h"
#include "quant/int8_linear.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::quant;
using namespace nabla::quant::testing;

namespace {

struct Operands {
  int64_t m, n, k, zp;
  std::vector<uint8_t> xv;
  std::vector<int8_t> wv;
  std::vector<float> w_scale, bias;
  Tensor x, bias_t;
  PackedInt8Weight w;

  Operands(int64_t m, int64_t n, int64_t k, int64_t zp, int x_max, uint32_t seed)
      : m(m), n(n), k(k), zp(zp) {
    xv = random_values<uint8_t>(size_t(m * k), 0, x_max, seed);
    wv = random_values<int8_t>(size_t(n * k), -127, 127, seed + 1);
    std::mt19937 gen(seed + 2);
    std::uniform_real_distribution<float> scale(0.001f, 0.02f), b(-3.0f, 3.0f);
    for (int64_t j = 0; j < n; ++j) {
      w_scale.push_back(scale(gen));
      bias.push_back(b(gen));
    }
    x = from_vector<uint8_t>(xv, {m, k});
    bias_t = from_vector<float>(bias);
    w = PackedInt8Weight(from_vector<int8_t>(wv, {n, k}), from_vector<float>(w_scale));
  }
};

}  // namespace

TEST_CASE("int8 requantization: uint8 output is bit-exact against the formula, for every kernel") {
  const float x_scale = 0.05f;
  struct Out {
    float scale;
    int64_t zero_point, qmin, qmax;
    bool relu, bias;
  };
  const Out outs[] = {{0.1f, 128, 0, 255, false, true}, {0.3f, 10, 0, 255, true, true},
                      {0.02f, 0, 0, 255, false, false}, {0.25f, 64, 0, 127, false, true},
                      {0.25f, 64, 0, 127, true, false}, {4.0f, 255, 0, 255, false, true},
                      {0.07f, 200, 20, 230, true, true}};
  uint32_t seed = 1;
  for (Int8Kernel kernel : kernels_to_test()) {
    const int x_max = int8_needs_7bit(kernel) ? 127 : 255;
    for (const auto& [m, n, k] : {std::array<int64_t, 3>{37, 21, 50}, {8, 64, 147}, {3, 5, 4}}) {
      const Operands op(m, n, k, x_max / 2, x_max, seed++);
      const std::vector<int32_t> acc =
          int8_matmul_int32(op.x, op.zp, op.w, kernel).to_vector<int32_t>();
      REQUIRE(acc == matmul_reference(op.xv, op.wv, m, n, k, op.zp));
      for (const Out& o : outs) {
        const Requantization r =
            Requantization::to_uint8(o.scale, o.zero_point, o.relu, o.qmin, o.qmax);
        const Tensor got =
            int8_linear(op.x, op.zp, x_scale, op.w, o.bias ? op.bias_t : Tensor(), r, kernel);
        REQUIRE(got.dtype() == kUInt8);
        const std::vector<uint8_t> have = got.to_vector<uint8_t>();
        int64_t wrong = 0, clamped = 0;
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < n; ++j) {
            const float mult = x_scale * op.w_scale[size_t(j)] / o.scale;
            const float off = o.bias ? op.bias[size_t(j)] / o.scale : 0.0f;
            const int64_t lo = o.relu ? std::max(o.qmin, o.zero_point) : o.qmin;
            const uint8_t want =
                requantize_reference(acc[size_t(i * n + j)], mult, off, o.zero_point, lo, o.qmax);
            wrong += have[size_t(i * n + j)] != want;
            clamped += want == lo || want == o.qmax;
          }
        CHECK_MESSAGE(wrong == 0, "kernel ", std::string(name(kernel)), " scale ", o.scale, " zp ",
                      o.zero_point, ": ", wrong, " of ", m * n, " differ");
        CHECK(clamped < m * n);  // the case tests rounding, not only the clamp
      }
    }
  }
}

TEST_CASE("int8 requantization: halves round to even, like nearbyint") {
  // x_scale * w_scale / out_scale = 0.5 exactly: odd sums land on halves.
  const int64_t k = 1, n = 16;
  std::vector<int8_t> wv(n, 1);
  const PackedInt8Weight w(from_vector<int8_t>(wv, {n, k}), full({1}, 1.0));
  const Tensor x = from_vector<uint8_t>({0, 1, 2, 3, 4, 5, 6, 7}, {8, 1});
  for (Int8Kernel kernel : kernels_to_test()) {
    const Tensor got =
        int8_linear(x, 0, 1.0f, w, Tensor(), Requantization::to_uint8(2.0f, 100), kernel);
    const std::vector<uint8_t> v = got.to_vector<uint8_t>();
    const uint8_t want[] = {100, 100, 101, 102, 102, 102, 103, 104};  // 0, .5, 1, 1.5, ... 3.5
    for (int64_t i = 0; i < 8; ++i)
      for (int64_t j = 0; j < n; ++j) CHECK(v[size_t(i * n + j)] == want[i]);
  }
}

TEST_CASE("int8 requantization: float32 output is bit-exact and close to the float product") {
  const float x_scale = 0.02f;
  uint32_t seed = 50;
  for (Int8Kernel kernel : kernels_to_test()) {
    const int x_max = int8_needs_7bit(kernel) ? 127 : 255;
    const Operands op(45, 19, 70, 17, x_max, seed++);
    const std::vector<int32_t> acc = matmul_reference(op.xv, op.wv, op.m, op.n, op.k, op.zp);
    for (bool relu : {false, true}) {
      const std::vector<float> got =
          int8_linear(op.x, op.zp, x_scale, op.w, op.bias_t, Requantization::to_float(relu), kernel)
              .to_vector<float>();
      int64_t wrong = 0;
      for (int64_t i = 0; i < op.m; ++i)
        for (int64_t j = 0; j < op.n; ++j) {
          float want = std::fma(float(acc[size_t(i * op.n + j)]), x_scale * op.w_scale[size_t(j)],
                                op.bias[size_t(j)]);
          if (relu) want = std::max(want, 0.0f);
          const float have = got[size_t(i * op.n + j)];
          wrong += std::memcmp(&have, &want, sizeof have) != 0;
          // The float product of the dequantized operands.
          double ref = op.bias[size_t(j)];
          for (int64_t p = 0; p < op.k; ++p)
            ref += (double(op.xv[size_t(i * op.k + p)]) - double(op.zp)) * x_scale *
                   double(op.wv[size_t(j * op.k + p)]) * op.w_scale[size_t(j)];
          if (relu) ref = std::max(ref, 0.0);
          CHECK(have == doctest::Approx(ref).epsilon(1e-4).scale(1.0));
        }
      CHECK_MESSAGE(wrong == 0, "kernel ", std::string(name(kernel)), " relu ", relu, ": ", wrong,
                    " differ");
    }
  }
}

TEST_CASE("int8 requantization: errors for bad output parameters and biases") {
  const PackedInt8Weight w(full({4, 8}, 1, {.dtype = kInt8}), full({1}, 1.0));
  const Tensor x = full({3, 8}, 1, {.dtype = kUInt8});
  using nabla::testing::error_of;
  CHECK(error_of([&] {
          int8_linear(x, 0, 1.0f, w, Tensor(), Requantization::to_uint8(0.0f, 0));
        }).find("int8_linear: the output scale") != std::string::npos);
  CHECK(error_of([&] {
          int8_linear(x, 0, 1.0f, w, Tensor(), Requantization::to_uint8(1.0f, 300));
        }).find("zero_point 300") != std::string::npos);
  const std::string bias =
      error_of([&] { int8_linear(x, 0, 1.0f, w, full({5}, 1.0), Requantization::to_float()); });
  CHECK(bias.find("[4]") != std::string::npos);
  CHECK(bias.find("[5]") != std::string::npos);
  CHECK_THROWS_AS(
      int8_linear(x, 0, 1.0f, w, full({4}, 1, {.dtype = kInt32}), Requantization::to_float()),
      DTypeError);
  CHECK_THROWS_AS(int8_linear(x, 0, -1.0f, w, Tensor(), Requantization::to_float()), ValueError);
}
