// CPU max and average pooling over NCHW planes, one plane per task.
#include <atomic>
#include <limits>
#include <type_traits>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/isa.h"
#include "core/cpu/loops.h"
#include "core/cpu/nan.h"
#include "core/cpu/pool_kernels.h"

namespace nabla {

namespace {

struct PoolGeometry {
  int64_t planes, h, w, oh, ow;
};

PoolGeometry geometry(const Tensor& x, const Tensor& out) {
  return {x.size(0) * x.size(1), x.size(2), x.size(3), out.size(2), out.size(3)};
}

// The window of output (oi, oj) along one axis, clipped to the input: [start, end), and the
// window's size including padding (the avg divisor when count_include_pad).
struct Window {
  int64_t start, end, padded_size;
};

Window window(int64_t out_i, int64_t size, int64_t k, int64_t stride, int64_t pad) {
  int64_t start = out_i * stride - pad;
  int64_t end = std::min(start + k, size + pad);
  int64_t padded = end - start;
  return {std::max<int64_t>(start, 0), std::min(end, size), padded};
}

// Whether v replaces the running maximum: the first element of a window always does, then a
// larger one, and a NaN (which then stays), like PyTorch.
template <class T>
bool takes_max(T v, T best, int64_t best_at) {
  return best_at < 0 || v > best || (cpu::is_nan(v) && !cpu::is_nan(best));
}

// Windows without dilation: their clipped bounds are computed once per output row and column,
// and the inner loops run without bounds checks.
template <class T>
void max_pool2d_plane(const T* src, const PoolGeometry& g, const Pool2dParams& p, T* out,
                      int64_t* indices) {
  for (int64_t oi = 0; oi < g.oh; ++oi) {
    Window wi = window(oi, g.h, p.kernel[0], p.stride[0], p.padding[0]);
    T* o = out + oi * g.ow;
    int64_t* at = indices + oi * g.ow;
    for (int64_t oj = 0; oj < g.ow; ++oj) at[oj] = -1;
    for (int64_t ii = wi.start; ii < wi.end; ++ii) {
      const T* row = src + ii * g.w;
      for (int64_t oj = 0; oj < g.ow; ++oj) {
        Window wj = window(oj, g.w, p.kernel[1], p.stride[1], p.padding[1]);
        T best = o[oj];
        int64_t best_at = at[oj];
        for (int64_t jj = wj.start; jj < wj.end; ++jj) {
          if (takes_max(row[jj], best, best_at)) {
            best = row[jj];
            best_at = ii * g.w + jj;
          }
        }
        o[oj] = best;
        at[oj] = best_at;
      }
    }
  }
}

// 2x2 windows with stride 2 and no padding, the usual downsampling. The four candidates are
// compared branch-free and the winner is kept as its position k in the window (0, 1: top row;
// 2, 3: bottom row), so that the compiler vectorizes along the output row.
template <class T>
void max_pool2d_plane_2x2(const T* src, const PoolGeometry& g, T* out, int64_t* indices) {
  auto pick = [](T& best, int64_t& best_k, T v, int64_t k) {
    // Bitwise, not short-circuit: a branch here would stop the vectorizer.
    const bool take = (v > best) | (cpu::is_nan(v) & !cpu::is_nan(best));
    best = take ? v : best;
    best_k = take ? k : best_k;
  };
  // Sizes in locals: the stores below could alias a PoolGeometry as far as the compiler knows.
  const int64_t w = g.w, ow = g.ow;
  for (int64_t oi = 0; oi < g.oh; ++oi) {
    const int64_t top = 2 * oi * w;
    const T* r0 = src + top;
    const T* r1 = r0 + w;
    T* o = out + oi * ow;
    int64_t* at = indices + oi * ow;
    for (int64_t oj = 0; oj < ow; ++oj) {
      T best = r0[2 * oj];
      int64_t k = 0;
      pick(best, k, r0[2 * oj + 1], 1);
      pick(best, k, r1[2 * oj], 2);
      pick(best, k, r1[2 * oj + 1], 3);
      o[oj] = best;
      at[oj] = top + 2 * oj + (k & 1) + (k >> 1) * w;
    }
  }
}

template <class T>
void max_pool2d_plane_dilated(const T* src, const PoolGeometry& g, const Pool2dParams& p, T* out,
                              int64_t* indices) {
  for (int64_t oi = 0; oi < g.oh; ++oi) {
    for (int64_t oj = 0; oj < g.ow; ++oj) {
      T best = std::numeric_limits<T>::lowest();
      int64_t best_at = -1;
      for (int64_t ki = 0; ki < p.kernel[0]; ++ki) {
        int64_t ii = oi * p.stride[0] - p.padding[0] + ki * p.dilation[0];
        if (ii < 0 || ii >= g.h) continue;
        for (int64_t kj = 0; kj < p.kernel[1]; ++kj) {
          int64_t jj = oj * p.stride[1] - p.padding[1] + kj * p.dilation[1];
          if (jj < 0 || jj >= g.w) continue;
          if (takes_max(src[ii * g.w + jj], best, best_at)) {
            best = src[ii * g.w + jj];
            best_at = ii * g.w + jj;
          }
        }
      }
      out[oi * g.ow + oj] = best;
      indices[oi * g.ow + oj] = best_at;
    }
  }
}

}  // namespace

void CpuBackend::max_pool2d(const Tensor& x, const Pool2dParams& p, const Tensor& out,
                            const Tensor& indices) {
  visit_dtype(x.dtype(), "max_pool2d", [&]<class T>() {
    PoolGeometry g = geometry(x, out);
    const T* in = x.data<T>();
    T* o = out.data<T>();
    int64_t* idx = indices.data<int64_t>();
    const bool dilated = p.dilation[0] != 1 || p.dilation[1] != 1;
    const bool two_by_two = !dilated && p.kernel[0] == 2 && p.kernel[1] == 2 && p.stride[0] == 2 &&
                            p.stride[1] == 2 && p.padding[0] == 0 && p.padding[1] == 0 &&
                            g.oh * 2 <= g.h && g.ow * 2 <= g.w;
    // The vector kernel computes indices in 32 bits.
    const bool vector_2x2 = std::is_same_v<T, float> && cpu::has_avx2_fma() &&
                            g.h * g.w <= std::numeric_limits<int32_t>::max();
    const auto pool2x2 = cpu::has_avx512() ? cpu::max_pool2x2_avx512 : cpu::max_pool2x2_avx2;
    cpu::parallel_for(g.planes, 1, [&](int64_t begin, int64_t end) {
      for (int64_t plane = begin; plane < end; ++plane) {
        const T* src = in + plane * g.h * g.w;
        int64_t offset = plane * g.oh * g.ow;
        if (two_by_two) {
          if constexpr (std::is_same_v<T, float>) {
            if (vector_2x2) {
              pool2x2(src, g.w, g.oh, g.ow, o + offset, idx + offset);
              continue;
            }
          }
          max_pool2d_plane_2x2(src, g, o + offset, idx + offset);
        } else if (dilated) {
          max_pool2d_plane_dilated(src, g, p, o + offset, idx + offset);
        } else {
          max_pool2d_plane(src, g, p, o + offset, idx + offset);
        }
      }
    });
  });
}

void CpuBackend::max_pool2d_backward(const Tensor& grad_out, const Tensor& indices,
                                     const Tensor& grad_input) {
  visit_dtype<DTypeSet::floating>(grad_out.dtype(), "max_pool2d_backward", [&]<class T>() {
    const int64_t planes = grad_input.size(0) * grad_input.size(1);
    const int64_t in_size = grad_input.size(2) * grad_input.size(3);
    const int64_t out_size = grad_out.size(2) * grad_out.size(3);
    const T* gy = grad_out.data<T>();
    const int64_t* idx = indices.data<int64_t>();
    T* gx = grad_input.data<T>();
    std::atomic<bool> out_of_plane{false};
    // A plane per task: its zeroing and its scatter touch the same cache lines.
    cpu::parallel_for(planes, 1, [&](int64_t begin, int64_t end) {
      for (int64_t plane = begin; plane < end; ++plane) {
        T* dst = gx + plane * in_size;
        std::fill(dst, dst + in_size, T(0));
        const T* g = gy + plane * out_size;
        const int64_t* at = idx + plane * out_size;
        for (int64_t i = 0; i < out_size; ++i) {
          if (static_cast<uint64_t>(at[i]) >= static_cast<uint64_t>(in_size)) {
            out_of_plane = true;
            return;
          }
          dst[at[i]] += g[i];
        }
      }
    });
    NABLA_CHECK(!out_of_plane, IndexError, "max_pool2d_backward: an index lies outside the ",
                grad_input.size(2), "x", grad_input.size(3), " input plane");
  });
}

void CpuBackend::avg_pool2d(const Tensor& x, const Pool2dParams& p, const Tensor& out) {
  visit_dtype<DTypeSet::floating>(x.dtype(), "avg_pool2d", [&]<class T>() {
    PoolGeometry g = geometry(x, out);
    const T* in = x.data<T>();
    T* o = out.data<T>();
    cpu::parallel_for(g.planes, 1, [&](int64_t begin, int64_t end) {
      for (int64_t plane = begin; plane < end; ++plane) {
        const T* src = in + plane * g.h * g.w;
        for (int64_t oi = 0; oi < g.oh; ++oi) {
          Window wi = window(oi, g.h, p.kernel[0], p.stride[0], p.padding[0]);
          for (int64_t oj = 0; oj < g.ow; ++oj) {
            Window wj = window(oj, g.w, p.kernel[1], p.stride[1], p.padding[1]);
            T sum = 0;
            for (int64_t ii = wi.start; ii < wi.end; ++ii)
              for (int64_t jj = wj.start; jj < wj.end; ++jj) sum += src[ii * g.w + jj];
            int64_t count = p.count_include_pad ? wi.padded_size * wj.padded_size
                                                : (wi.end - wi.start) * (wj.end - wj.start);
            o[(plane * g.oh + oi) * g.ow + oj] = count > 0 ? sum / T(count) : T(0);
          }
        }
      }
    });
  });
}

void CpuBackend::avg_pool2d_backward(const Tensor& grad_out, const Pool2dParams& p,
                                     const Tensor& grad_input) {
  visit_dtype<DTypeSet::floating>(grad_out.dtype(), "avg_pool2d_backward", [&]<class T>() {
    PoolGeometry g = geometry(grad_input, grad_out);
    const T* gy = grad_out.data<T>();
    T* gx = grad_input.data<T>();
    cpu::parallel_for(g.planes, 1, [&](int64_t begin, int64_t end) {
      for (int64_t plane = begin; plane < end; ++plane) {
        T* dst = gx + plane * g.h * g.w;
        std::fill(dst, dst + g.h * g.w, T(0));
        for (int64_t oi = 0; oi < g.oh; ++oi) {
          Window wi = window(oi, g.h, p.kernel[0], p.stride[0], p.padding[0]);
          for (int64_t oj = 0; oj < g.ow; ++oj) {
            Window wj = window(oj, g.w, p.kernel[1], p.stride[1], p.padding[1]);
            int64_t count = p.count_include_pad ? wi.padded_size * wj.padded_size
                                                : (wi.end - wi.start) * (wj.end - wj.start);
            if (count == 0) continue;
            T share = gy[(plane * g.oh + oi) * g.ow + oj] / T(count);
            for (int64_t ii = wi.start; ii < wi.end; ++ii)
              for (int64_t jj = wj.start; jj < wj.end; ++jj) dst[ii * g.w + jj] += share;
          }
        }
      }
    });
  });
}

}  // namespace nabla
