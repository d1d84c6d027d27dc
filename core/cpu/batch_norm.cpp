// CPU batch normalization passes over x: [N, C, S] (S: the product of the dims after C), as
// N * C rows of S contiguous values, row r in channel r % C. The statistics give each thread
// whole channels, so a channel's rows are read twice from cache (mean, then squared deviations)
// rather than from memory, and the variance needs no E[x^2] - mean^2 cancellation. The gradient's
// sums, which read two tensors, sweep the rows in memory order instead (RowParts).
#include <omp.h>

#include <algorithm>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/loops.h"

namespace nabla {

namespace {

struct Planes {
  int64_t n, c, s;
  explicit Planes(const Tensor& x)
      : n(x.size(0)), c(x.size(1)), s(n * c == 0 ? 0 : x.numel() / (n * c)) {}
  int64_t count() const { return n * s; }  // values per channel
  // Threads take whole channels, once a channel's work would fill a parallel chunk.
  int64_t channel_grain() const {
    return std::max<int64_t>(1, cpu::kGrain / std::max<int64_t>(count(), 1));
  }
};

// The N * C rows in memory order, cut into one contiguous range per thread: a reduction that
// sweeps memory front to back streams at full bandwidth, where reading a channel's runs one
// after another (each a page or less) restarts the prefetchers at every run.
struct RowParts {
  int64_t rows, count;
  explicit RowParts(const Planes& g)
      : rows(g.n * g.c),
        count(std::clamp<int64_t>(
            rows * g.s / cpu::kGrain, 1,
            std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), rows)))) {}
  int64_t begin(int64_t part) const { return rows * part / count; }
};

// The sum of f(i) over one run of n elements, in T for blocks of 256 (16 lanes the compiler
// vectorizes), and in double across blocks: floats keep about 7 digits over a whole channel.
template <class T, class F>
double sum_run(int64_t n, F f) {
  constexpr int64_t kBlock = 256, kLanes = 16;
  double total = 0;
  for (int64_t start = 0; start < n; start += kBlock) {
    const int64_t end = std::min(n, start + kBlock);
    T lanes[kLanes] = {};
    int64_t i = start;
    for (; i + kLanes <= end; i += kLanes)
      for (int64_t j = 0; j < kLanes; ++j) lanes[j] += f(i + j);
    T part = 0;
    for (; i < end; ++i) part += f(i);
    for (T lane : lanes) part += lane;
    total += double(part);
  }
  return total;
}

}  // namespace

void CpuBackend::batch_norm_stats(const Tensor& x, const Tensor& mean, const Tensor& var) {
  visit_dtype<DTypeSet::floating>(x.dtype(), "batch_norm_stats", [&]<class T>() {
    const Planes g(x);
    const T* in = x.data<T>();
    T* mean_out = mean.data<T>();
    T* var_out = var.data<T>();
    cpu::parallel_for(g.c, g.channel_grain(), [&](int64_t begin, int64_t end) {
      for (int64_t ch = begin; ch < end; ++ch) {
        double sum = 0;
        for (int64_t i = 0; i < g.n; ++i) {
          const T* run = in + (i * g.c + ch) * g.s;
          sum += sum_run<T>(g.s, [run](int64_t k) { return run[k]; });
        }
        const double m = sum / double(g.count());
        const T mt = static_cast<T>(m);
        double squares = 0;
        for (int64_t i = 0; i < g.n; ++i) {
          const T* run = in + (i * g.c + ch) * g.s;
          squares += sum_run<T>(g.s, [run, mt](int64_t k) {
            T d = run[k] - mt;
            return d * d;
          });
        }
        // The float mean's rounding shifts the deviations by (m - mt); remove its square.
        const double shift = m - double(mt);
        mean_out[ch] = mt;
        var_out[ch] = static_cast<T>(std::max(0.0, squares / double(g.count()) - shift * shift));
      }
    });
  });
}

void CpuBackend::batch_norm_backward_reduce(const Tensor& grad_out, const Tensor& x,
                                            const Tensor& mean, const Tensor& sum_g,
                                            const Tensor& sum_gx) {
  visit_dtype<DTypeSet::floating>(x.dtype(), "batch_norm_backward_reduce", [&]<class T>() {
    const Planes g(x);
    const T* gy = grad_out.data<T>();
    const T* in = x.data<T>();
    const T* mu = mean.data<T>();
    // Each part sums a contiguous range of rows into its own per-channel totals.
    const RowParts parts(g);
    std::vector<double> totals(size_t(parts.count * 2 * g.c), 0.0);
    cpu::parallel_for(parts.count, 1, [&](int64_t begin, int64_t end) {
      for (int64_t part = begin; part < end; ++part) {
        double* total_g = totals.data() + part * 2 * g.c;
        double* total_gx = total_g + g.c;
        for (int64_t r = parts.begin(part); r < parts.begin(part + 1); ++r) {
          const int64_t ch = r % g.c;
          const T* gr = gy + r * g.s;
          const T* xr = in + r * g.s;
          const T m = mu[ch];
          total_g[ch] += sum_run<T>(g.s, [gr](int64_t k) { return gr[k]; });
          total_gx[ch] += sum_run<T>(g.s, [gr, xr, m](int64_t k) { return gr[k] * (xr[k] - m); });
        }
      }
    });
    T* sum_g_out = sum_g.data<T>();
    T* sum_gx_out = sum_gx.data<T>();
    for (int64_t ch = 0; ch < g.c; ++ch) {
      double total_g = 0, total_gx = 0;
      for (int64_t part = 0; part < parts.count; ++part) {
        total_g += totals[size_t(part * 2 * g.c + ch)];
        total_gx += totals[size_t(part * 2 * g.c + g.c + ch)];
      }
      sum_g_out[ch] = static_cast<T>(total_g);
      sum_gx_out[ch] = static_cast<T>(total_gx);
    }
  });
}

void CpuBackend::batch_norm_apply(const Tensor& x, const Tensor& x_scale, const Tensor& shift,
                                  const Tensor& g, const Tensor& g_scale,
                                  const BatchNormEpilogue& epilogue, const Tensor& out) {
  visit_dtype<DTypeSet::floating>(x.dtype(), "batch_norm_apply", [&]<class T>() {
    const Planes p(x);
    const T* in = x.data<T>();
    const T* a = x_scale.data<T>();
    const T* b = shift.data<T>();
    const T* gy = g.defined() ? g.data<T>() : nullptr;
    const T* k = g.defined() ? g_scale.data<T>() : nullptr;
    const T* residual = epilogue.residual.defined() ? epilogue.residual.data<T>() : nullptr;
    T* o = out.data<T>();
    const int64_t rows = p.n * p.c;
    cpu::parallel_for(rows, std::max<int64_t>(1, cpu::kGrain / std::max<int64_t>(p.s, 1)),
                      [&](int64_t begin, int64_t end) {
                        for (int64_t r = begin; r < end; ++r) {
                          const int64_t ch = r % p.c;
                          const T* xr = in + r * p.s;
                          T* orow = o + r * p.s;
                          const T ar = a[ch], br = b[ch];
                          if (gy) {
                            const T* gr = gy + r * p.s;
                            const T kr = k[ch];
                            for (int64_t i = 0; i < p.s; ++i)
                              orow[i] = xr[i] * ar + br + gr[i] * kr;
                          } else {
                            for (int64_t i = 0; i < p.s; ++i) orow[i] = xr[i] * ar + br;
                          }
                          // The epilogue reruns the row while it is still in L1.
                          if (residual) {
                            const T* rr = residual + r * p.s;
                            for (int64_t i = 0; i < p.s; ++i) orow[i] += rr[i];
                          }
                          if (epilogue.relu) {
                            for (int64_t i = 0; i < p.s; ++i)
                              orow[i] = orow[i] > T(0) ? orow[i] : T(0);
                          }
                        }
                      });
  });
}

}  // namespace nabla
