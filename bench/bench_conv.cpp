// bench_conv: float32 conv2d forward and backward (data and weight) on CIFAR-shaped batches,
// through nabla's kernels and through autograd, against raw cblas_sgemm on the GEMM shapes that
// im2col reduces each pass to.
#include "bench/bench_common.h"
#include "core/ops.h"

namespace {

using nabla::Conv2dParams;
using nabla::Shape;
using nabla::Tensor;
using namespace nabla::bench;

// Square kernels, stride 1, "same" padding: the output plane is the input plane.
struct ConvCase {
  std::string name;
  int64_t n, c, h, w, o, k;

  Shape input() const { return {n, c, h, w}; }
  Shape weight() const { return {o, c, k, k}; }
  Shape output() const { return {n, o, h, w}; }
  Conv2dParams params() const {
    Conv2dParams p;
    p.padding[0] = p.padding[1] = k / 2;
    return p;
  }
  // One pass (forward, backward data or backward weight): 2 * N * O * OH * OW * C * KH * KW.
  double flop() const { return 2.0 * n * o * h * w * c * k * k; }
  // Per image, im2col makes a column matrix [C * KH * KW, OH * OW].
  int col_rows() const { return static_cast<int>(c * k * k); }
  int col_cols() const { return static_cast<int>(h * w); }
};

const ConvCase kCases[] = {
    {"resnet_64to64", 128, 64, 32, 32, 64, 3},  // ResNet stage 1 on CIFAR
    {"first_3to32", 128, 3, 32, 32, 32, 3},     // a CIFAR network's first layer
    {"cnn_32to64", 128, 32, 16, 16, 64, 3},     // the small CNN's second and third layers
    {"cnn_64to128", 128, 64, 8, 8, 128, 3},
    {"resnet20_16to16", 128, 16, 32, 32, 16, 3},  // ResNet-20's three stages
    {"resnet20_32to32", 128, 32, 16, 16, 32, 3},
    {"resnet20_64to64", 128, 64, 8, 8, 64, 3},
    {"fastnet_64to256", 128, 64, 16, 16, 256, 3},  // FastNet's widest layers
    {"fastnet_256to256", 128, 256, 8, 8, 256, 3},
};

enum class Pass { forward, backward_data, backward_weight };
constexpr Pass kPasses[] = {Pass::forward, Pass::backward_data, Pass::backward_weight};

const char* name(Pass pass) {
  switch (pass) {
    case Pass::forward:
      return "forward";
    case Pass::backward_data:
      return "backward_data";
    case Pass::backward_weight:
      return "backward_weight";
  }
  return "";
}

// Inputs made once per case and shared by every benchmark of it.
struct ConvData {
  Tensor x, w, grad_y;
  Tensor col, y, grad_w;  // the raw GEMMs' buffers

  explicit ConvData(const ConvCase& cc)
      : x(nabla::randn(cc.input())),
        w(nabla::randn(cc.weight())),
        grad_y(nabla::randn(cc.output())),
        col(nabla::randn({cc.col_rows(), cc.col_cols()})),
        y(nabla::empty(cc.output())),
        grad_w(nabla::empty(cc.weight())) {}
};

void nabla_kernel(benchmark::State& state, const ConvCase& cc, const ConvData& d, Pass pass) {
  const Conv2dParams p = cc.params();
  for (auto _ : state) {
    Tensor result = pass == Pass::forward ? nabla::core::conv2d(d.x, d.w, p)
                    : pass == Pass::backward_data
                        ? nabla::core::conv2d_backward_data(d.grad_y, d.w, cc.input(), p)
                        : nabla::core::conv2d_backward_weight(d.x, d.grad_y, cc.weight(), p);
    benchmark::DoNotOptimize(result.raw_data());
  }
  set_gflop(state, cc.flop());
}

// A training step's convolution as a user writes it: forward, then backward into both leaves.
void nabla_autograd_step(benchmark::State& state, const ConvCase& cc, const ConvData& d) {
  Tensor x = nabla::detach(d.x).requires_grad_();
  Tensor w = nabla::detach(d.w).requires_grad_();
  const Conv2dParams p = cc.params();
  for (auto _ : state) {
    nabla::zero_grad({x, w});
    nabla::backward(nabla::sum(nabla::conv2d(x, w, Tensor(), p)));
    benchmark::DoNotOptimize(w.grad().raw_data());
  }
  set_gflop(state, 3 * cc.flop());
}

// The GEMMs of one pass, image by image, on buffers of the im2col shapes: what nabla's
// convolution would cost if unfolding (im2col, col2im) and dispatch were free. The column buffer
// holds random data instead of an unfolded image.
void raw_gemms(benchmark::State& state, const ConvCase& cc, const ConvData& d, Pass pass) {
  const int o = static_cast<int>(cc.o), rows = cc.col_rows(), cols = cc.col_cols();
  const float* w = d.w.data<float>();
  float* col = d.col.data<float>();
  for (auto _ : state) {
    for (int64_t i = 0; i < cc.n; ++i) {
      float* y = d.y.data<float>() + i * o * cols;
      const float* grad_y = d.grad_y.data<float>() + i * o * cols;
      switch (pass) {
        case Pass::forward:  // y_i [O, OH*OW] = W [O, C*KK] @ col
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, o, cols, rows, 1.0f, w, rows, col,
                      cols, 0.0f, y, cols);
          break;
        case Pass::backward_data:  // col = W^T @ grad_y_i
          cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, rows, cols, o, 1.0f, w, rows, grad_y,
                      cols, 0.0f, col, cols);
          break;
        case Pass::backward_weight:  // grad_W += grad_y_i @ col^T
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, o, rows, cols, 1.0f, grad_y, cols,
                      col, cols, i == 0 ? 0.0f : 1.0f, d.grad_w.data<float>(), rows);
          break;
      }
    }
    benchmark::ClobberMemory();
  }
  set_gflop(state, cc.flop());
}

}  // namespace

int main(int argc, char** argv) {
  nabla::manual_seed(0);
  std::vector<Comparison> comparisons;
  for (const ConvCase& cc : kCases) {
    const ConvData data(cc);
    const std::string base = "conv/" + cc.name + "/";
    std::vector<std::string> kernels, gemms;
    for (Pass pass : kPasses) {
      const std::string pass_name = base + name(pass);
      add(pass_name + "/nabla", [=](benchmark::State& s) {
        nabla_kernel(s, cc, data, pass);
      })->MinTime(0.2);
      add(pass_name + "/gemm", [=](benchmark::State& s) {
        raw_gemms(s, cc, data, pass);
      })->MinTime(0.2);
      comparisons.push_back(
          {cc.name + " " + name(pass), {pass_name + "/nabla"}, {pass_name + "/gemm"}});
      kernels.push_back(pass_name + "/nabla");
      gemms.push_back(pass_name + "/gemm");
    }
    add(base + "step/autograd", [=](benchmark::State& s) {
      nabla_autograd_step(s, cc, data);
    })->MinTime(0.2);
    comparisons.push_back({cc.name + " step (kernels)", kernels, gemms});
    comparisons.push_back({cc.name + " step (autograd)", {base + "step/autograd"}, gemms});
  }
  return run_main(argc, argv, "bench_conv", 5, comparisons);
}
