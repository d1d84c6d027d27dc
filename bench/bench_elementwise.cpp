// bench_elementwise: memory-bound float32 ops through nabla (add, broadcast add, sums) against
// plain loops over the same memory, in GB/s of memory traffic.
//
// The reference loops write into preallocated outputs and run on as many OpenMP threads as nabla,
// so the ratio shows what nabla adds: dispatch, output allocation, and its loop machinery.
#include <omp.h>

#include <functional>

#include "bench/bench_common.h"

namespace {

using nabla::Shape;
using nabla::Tensor;
using namespace nabla::bench;

constexpr int64_t kAddSizes[] = {int64_t{1} << 20, int64_t{1} << 24};
constexpr int64_t kRows = 8192, kCols = 1024;  // broadcast add: [kRows, kCols] + [kCols]
constexpr int64_t kSide = 4096;                // reductions of a [kSide, kSide] matrix

void add_loop(const float* x, const float* y, float* out, int64_t n) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] + y[i];
}

void broadcast_add_loop(const float* x, const float* row, float* out, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) out[r * cols + c] = x[r * cols + c] + row[c];
  }
}

void sum_all_loop(const float* x, float* out, int64_t n) {
  float total = 0;
#pragma omp parallel for simd schedule(static) reduction(+ : total)
  for (int64_t i = 0; i < n; ++i) total += x[i];
  *out = total;
}

// out [cols] = column sums of x [rows, cols]: each thread streams through its own band of rows
// into partial sums that stay in L1, then the partials are added up.
void sum_dim0_loop(const float* x, float* out, int64_t rows, int64_t cols) {
  std::fill(out, out + cols, 0.0f);
#pragma omp parallel
  {
    int t = omp_get_thread_num(), nt = omp_get_num_threads();
    std::vector<float> partial(cols, 0.0f);
    float* acc = partial.data();
    for (int64_t r = rows * t / nt; r < rows * (t + 1) / nt; ++r) {
      const float* row = x + r * cols;
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) acc[c] += row[c];
    }
#pragma omp critical
    for (int64_t c = 0; c < cols; ++c) out[c] += acc[c];
  }
}

// out [rows] = row sums of x [rows, cols].
void sum_dim1_loop(const float* x, float* out, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    float total = 0;
#pragma omp simd reduction(+ : total)
    for (int64_t c = 0; c < cols; ++c) total += x[r * cols + c];
    out[r] = total;
  }
}

// One workload as both sides see it: inputs, nabla's op, and the reference loop writing into
// `out`, which has the shape of nabla's result.
struct Workload {
  std::vector<Tensor> inputs;
  Shape out_shape;
  double bytes;
  double tolerance;  // relative; summation order differs between the two sides
  std::function<Tensor(const std::vector<Tensor>&)> nabla;
  std::function<void(const std::vector<Tensor>&, const Tensor&)> loop;
};

void run_nabla(benchmark::State& state, const Workload& w) {
  for (auto _ : state) {
    Tensor out = w.nabla(w.inputs);
    benchmark::DoNotOptimize(out.raw_data());
  }
  set_gbyte(state, w.bytes);
}

void run_loop(benchmark::State& state, const Workload& w, const Tensor& out) {
  for (auto _ : state) {
    w.loop(w.inputs, out);
    benchmark::ClobberMemory();
  }
  set_gbyte(state, w.bytes);
}

const float* in(const std::vector<Tensor>& inputs, size_t i) { return inputs[i].data<float>(); }

std::vector<std::pair<std::string, Workload>> workloads() {
  std::vector<std::pair<std::string, Workload>> list;
  for (int64_t n : kAddSizes) {
    list.push_back(
        {"add/" + std::to_string(n >> 20) + "M",
         {.inputs = {nabla::rand({n}), nabla::rand({n})},
          .out_shape = {n},
          .bytes = 3.0 * 4 * n,
          .tolerance = 0,
          .nabla = [](const auto& x) { return x[0] + x[1]; },
          .loop = [n](const auto& x,
                      const Tensor& out) { add_loop(in(x, 0), in(x, 1), out.data<float>(), n); }}});
  }
  list.push_back({"add_broadcast/" + std::to_string(kRows) + "x" + std::to_string(kCols),
                  {.inputs = {nabla::rand({kRows, kCols}), nabla::rand({kCols})},
                   .out_shape = {kRows, kCols},
                   .bytes = 4.0 * (2 * kRows * kCols + kCols),
                   .tolerance = 0,
                   .nabla = [](const auto& x) { return x[0] + x[1]; },
                   .loop =
                       [](const auto& x, const Tensor& out) {
                         broadcast_add_loop(in(x, 0), in(x, 1), out.data<float>(), kRows, kCols);
                       }}});
  // Uniform inputs keep the sums free of cancellation, so both summation orders agree closely.
  Tensor matrix = nabla::rand({kSide, kSide});
  const double matrix_bytes = 4.0 * kSide * kSide;
  list.push_back({"sum/all",
                  {.inputs = {matrix},
                   .out_shape = {},
                   .bytes = matrix_bytes,
                   .tolerance = 1e-3,
                   .nabla = [](const auto& x) { return nabla::sum(x[0]); },
                   .loop =
                       [](const auto& x, const Tensor& out) {
                         sum_all_loop(in(x, 0), out.data<float>(), kSide * kSide);
                       }}});
  list.push_back({"sum/dim0",
                  {.inputs = {matrix},
                   .out_shape = {kSide},
                   .bytes = matrix_bytes,
                   .tolerance = 1e-4,
                   .nabla = [](const auto& x) { return nabla::sum(x[0], {0}); },
                   .loop =
                       [](const auto& x, const Tensor& out) {
                         sum_dim0_loop(in(x, 0), out.data<float>(), kSide, kSide);
                       }}});
  list.push_back({"sum/dim1",
                  {.inputs = {matrix},
                   .out_shape = {kSide},
                   .bytes = matrix_bytes,
                   .tolerance = 1e-4,
                   .nabla = [](const auto& x) { return nabla::sum(x[0], {1}); },
                   .loop =
                       [](const auto& x, const Tensor& out) {
                         sum_dim1_loop(in(x, 0), out.data<float>(), kSide, kSide);
                       }}});
  return list;
}

}  // namespace

int main(int argc, char** argv) {
  nabla::manual_seed(0);
  std::vector<Comparison> comparisons;
  for (auto& [name, workload] : workloads()) {
    Tensor out = nabla::empty(workload.out_shape);
    workload.loop(workload.inputs, out);
    require_close(name, workload.nabla(workload.inputs), out, workload.tolerance);
    add(name + "/nabla", [w = workload](benchmark::State& s) { run_nabla(s, w); })->MinTime(0.1);
    add(name + "/loop", [w = workload, out](benchmark::State& s) {
      run_loop(s, w, out);
    })->MinTime(0.1);
    comparisons.push_back({name, {name + "/nabla"}, {name + "/loop"}});
  }
  return run_main(argc, argv, "bench_elementwise", 11, comparisons);
}
