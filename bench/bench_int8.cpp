// bench_int8: nabla's int8 kernels against float32 on the convolutions of ResNet-20 and the small
// CNN at batch 128: int8_conv2d (uint8 out, ReLU fused) against nabla's own float32 conv2d, and
// the int8 GEMM on the im2col shapes (M = N * OH * OW, N = O, K = 9 * C) against cblas_sgemm.
// Each int8 case runs twice: with 7-bit activations (reduce_range, which AVX2 CPUs without VNNI
// multiply with vpmaddubsw) and with full 8-bit ones (an exact kernel).
#include "bench/bench_common.h"
#include "core/ops.h"
#include "quant/int8_conv.h"
#include "quant/int8_linear.h"

namespace {

using nabla::Conv2dParams;
using nabla::Shape;
using nabla::Tensor;
using namespace nabla::bench;
using namespace nabla::quant;

struct ConvCase {
  std::string name;
  int64_t c, h, o, stride;

  static constexpr int64_t n = 128, k = 3;
  int64_t out() const { return (h + 2 - k) / stride + 1; }
  Conv2dParams params() const {
    Conv2dParams p;
    p.padding[0] = p.padding[1] = 1;
    p.stride[0] = p.stride[1] = stride;
    return p;
  }
  double flop() const { return 2.0 * n * o * out() * out() * c * k * k; }
  int64_t gemm_m() const { return n * out() * out(); }
  int64_t gemm_k() const { return c * k * k; }
};

const ConvCase kCases[] = {
    {"resnet20_3to16", 3, 32, 16, 1},    // the first layer
    {"resnet20_16to16", 16, 32, 16, 1},  // the three stages
    {"resnet20_16to32_s2", 16, 32, 32, 2}, {"resnet20_32to32", 32, 16, 32, 1},
    {"resnet20_32to64_s2", 32, 16, 64, 2}, {"resnet20_64to64", 64, 8, 64, 1},
    {"cnn_3to32", 3, 32, 32, 1},  // the small CNN's three layers
    {"cnn_32to64", 32, 16, 64, 1},         {"cnn_64to128", 64, 8, 128, 1},
};

// Random values in [0, top] as uint8, and in [-127, 127] as int8.
Tensor random_u8(const Shape& shape, double top) {
  return nabla::core::to(nabla::core::binary(nabla::BinaryOp::mul, nabla::rand(shape), top + 0.99),
                         nabla::kUInt8);
}
Tensor random_s8(const Shape& shape) {
  Tensor u = nabla::core::binary(nabla::BinaryOp::mul, nabla::rand(shape), 254.99);
  return nabla::core::to(nabla::core::binary(nabla::BinaryOp::sub, u, 127.0), nabla::kInt8);
}
Tensor as_float(const Tensor& q, double zero_point, double scale) {
  Tensor f = nabla::core::to(q, nabla::kFloat32);
  return nabla::core::binary(nabla::BinaryOp::mul,
                             nabla::core::binary(nabla::BinaryOp::sub, f, zero_point), scale);
}

constexpr float kXScale = 0.02f, kWScale = 0.01f;

struct ConvData {
  Tensor x7, x8, wq, xf, wf;  // 7-bit and 8-bit activations, int8 weights, float32 copies
  PackedInt8Weight w, w_gemm;
  Tensor a, b, c, a7, a8;  // the GEMM's float operands and output, its uint8 activations

  explicit ConvData(const ConvCase& cc) {
    const Shape xs{cc.n, cc.c, cc.h, cc.h}, ws{cc.o, cc.c, cc.k, cc.k};
    x7 = random_u8(xs, 127);
    x8 = random_u8(xs, 255);
    wq = random_s8(ws);
    w = PackedInt8Weight(wq, nabla::full({1}, kWScale));
    xf = as_float(x8, 0, kXScale);
    wf = as_float(wq, 0, kWScale);
    const int64_t m = cc.gemm_m(), k = cc.gemm_k();
    a = nabla::randn({m, k});
    b = nabla::randn({cc.o, k});
    c = nabla::empty({m, cc.o});
    a7 = random_u8({m, k}, 127);
    a8 = random_u8({m, k}, 255);
    w_gemm = PackedInt8Weight(random_s8({cc.o, k}), nabla::full({1}, kWScale));
  }
};

const Requantization kOut = Requantization::to_uint8(0.05f, 0, /*relu=*/true);

}  // namespace

int main(int argc, char** argv) {
  nabla::manual_seed(0);
  std::printf("bench_int8: int8 kernels this CPU runs:");
  for (Int8Kernel k : available_int8_kernels()) std::printf(" %s", name(k));
  std::printf("; automatic picks %s for 7-bit activations\n",
              name(choose_int8_kernel(Int8Kernel::automatic, "bench_int8")));
  std::vector<Comparison> comparisons;
  for (const ConvCase& cc : kCases) {
    const ConvData d(cc);
    const Conv2dParams p = cc.params();
    // The dequantized int8 convolution is the float convolution of the dequantized operands, up
    // to float32 rounding.
    require_close(cc.name,
                  int8_conv2d(d.x8, 0, kXScale, d.w, Tensor(), p, Requantization::to_float()),
                  nabla::core::conv2d(d.xf, d.wf, p), 1e-5);

    const std::string base = "int8/" + cc.name + "/";
    for (int bits : {7, 8}) {
      const Tensor x = bits == 7 ? d.x7 : d.x8, a = bits == 7 ? d.a7 : d.a8;
      const std::string tag = std::to_string(bits) + "bit";
      add(base + "conv/int8_" + tag, [=](benchmark::State& s) {
        for (auto _ : s) {
          Tensor y = int8_conv2d(x, 0, kXScale, d.w, Tensor(), p, kOut);
          benchmark::DoNotOptimize(y.raw_data());
        }
        set_gflop(s, cc.flop());
      })->MinTime(0.2);
      add(base + "gemm/int8_" + tag, [=](benchmark::State& s) {
        for (auto _ : s) {
          Tensor y = int8_linear(a, 0, kXScale, d.w_gemm, Tensor(), kOut);
          benchmark::DoNotOptimize(y.raw_data());
        }
        set_gflop(s, cc.flop());
      })->MinTime(0.2);
    }
    add(base + "conv/float32", [=](benchmark::State& s) {
      for (auto _ : s) {
        Tensor y = nabla::core::conv2d(d.xf, d.wf, p);
        benchmark::DoNotOptimize(y.raw_data());
      }
      set_gflop(s, cc.flop());
    })->MinTime(0.2);
    add(base + "gemm/sgemm", [=](benchmark::State& s) {
      const int m = int(cc.gemm_m()), n = int(cc.o), k = int(cc.gemm_k());
      for (auto _ : s) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, d.a.data<float>(), k,
                    d.b.data<float>(), k, 0.0f, d.c.data<float>(), n);
        benchmark::ClobberMemory();
      }
      set_gflop(s, cc.flop());
    })->MinTime(0.2);
    for (const char* tag : {"7bit", "8bit"}) {
      comparisons.push_back(
          {"conv " + cc.name + " " + tag, {base + "conv/int8_" + tag}, {base + "conv/float32"}});
      comparisons.push_back(
          {"gemm " + cc.name + " " + tag, {base + "gemm/int8_" + tag}, {base + "gemm/sgemm"}});
    }
  }
  return run_main(argc, argv, "bench_int8", 5, comparisons);
}
