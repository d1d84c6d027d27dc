// bench_matmul: float32 nabla::matmul, on contiguous operands and on a transposed view, against
// raw cblas_sgemm on the same sizes and the same memory.
#include "bench/bench_common.h"

namespace {

using nabla::Tensor;
using namespace nabla::bench;

constexpr int64_t kSizes[] = {256, 512, 1024};

// c [n, n] = a @ b, or a @ b^T when b_transposed: what nabla should hand to BLAS.
void sgemm(const Tensor& a, const Tensor& b, bool b_transposed, const Tensor& c) {
  const int n = static_cast<int>(a.size(0));
  cblas_sgemm(CblasRowMajor, CblasNoTrans, b_transposed ? CblasTrans : CblasNoTrans, n, n, n, 1.0f,
              a.data<float>(), n, b.data<float>(), n, 0.0f, c.data<float>(), n);
}

// The transposed view is made on each call, as a caller would; BLAS should read it in place.
Tensor product(const Tensor& a, const Tensor& b, bool b_transposed) {
  return nabla::matmul(a, b_transposed ? nabla::transpose(b) : b);
}

}  // namespace

int main(int argc, char** argv) {
  nabla::manual_seed(0);
  std::vector<Comparison> comparisons;
  for (int64_t n : kSizes) {
    Tensor a = nabla::randn({n, n}), b = nabla::randn({n, n}), c = nabla::empty({n, n});
    const double flop = 2.0 * n * n * n;
    for (bool t : {false, true}) {
      const std::string size = std::to_string(n);
      const std::string suffix = t ? size + "/b_transposed" : size;
      sgemm(a, b, t, c);
      require_close("matmul " + suffix, product(a, b, t), c, 1e-5);

      add("matmul/nabla/" + suffix, [=](benchmark::State& state) {
        for (auto _ : state) {
          Tensor out = product(a, b, t);
          benchmark::DoNotOptimize(out.raw_data());
        }
        set_gflop(state, flop);
      })->MinTime(0.1);
      add("matmul/sgemm/" + suffix, [=](benchmark::State& state) {
        for (auto _ : state) {
          sgemm(a, b, t, c);
          benchmark::ClobberMemory();
        }
        set_gflop(state, flop);
      })->MinTime(0.1);
      comparisons.push_back({"matmul " + (t ? size + " b^T" : size),
                             {"matmul/nabla/" + suffix},
                             {"matmul/sgemm/" + suffix}});
    }
  }
  return run_main(argc, argv, "bench_matmul", 11, comparisons);
}
