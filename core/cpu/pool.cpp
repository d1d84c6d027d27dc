// CPU max and average pooling over NCHW planes, one plane per task.
#include <limits>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/loops.h"
#include "core/cpu/nan.h"

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

}  // namespace

void CpuBackend::max_pool2d(const Tensor& x, const Pool2dParams& p, const Tensor& out,
                            const Tensor& indices) {
  visit_dtype(x.dtype(), "max_pool2d", [&]<class T>() {
    PoolGeometry g = geometry(x, out);
    const T* in = x.data<T>();
    T* o = out.data<T>();
    int64_t* idx = indices.data<int64_t>();
    cpu::parallel_for(g.planes, 1, [&](int64_t begin, int64_t end) {
      for (int64_t plane = begin; plane < end; ++plane) {
        const T* src = in + plane * g.h * g.w;
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
                T v = src[ii * g.w + jj];
                if (best_at < 0 || v > best || cpu::is_nan(v)) {  // a NaN wins, like PyTorch
                  best = v;
                  best_at = ii * g.w + jj;
                }
              }
            }
            int64_t k = (plane * g.oh + oi) * g.ow + oj;
            o[k] = best;
            idx[k] = best_at;
          }
        }
      }
    });
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
