// CPU convolution by im2col + GEMM, one image at a time so the column buffer stays in cache-sized
// pieces. A 1x1 convolution with stride 1 and no padding needs no im2col: the image is the
// column matrix. Threads split the batch: each runs im2col and single-threaded GEMMs on its own
// images, which keeps both cores busy on the im2col too and needs no synchronization per image.
// float32 layers that Winograd or the implicit GEMM takes leave first (conv_fast_paths.h).
//
// For one image and one group (Cg = C / groups, Og = O / groups, KK = KH * KW):
//   col [Cg * KK, OH * OW] = im2col(x)
//   forward:          out [Og, OH * OW]    = W [Og, Cg * KK] @ col
//   backward data:    col = W^T @ grad_out, then col2im adds col back into grad_x
//   backward weight:  grad_W [Og, Cg * KK] += grad_out @ col^T (or its transpose, see below)
#include <algorithm>
#include <type_traits>

#include "core/cpu/blas.h"
#include "core/cpu/conv_fast_paths.h"
#include "core/cpu/conv_geometry.h"
#include "core/cpu/cpu_backend.h"
#include "core/cpu/loops.h"
#include "core/creation.h"

namespace nabla {

namespace {

using cpu::ConvGeometry;

// The input column that output column `o_col` reads at kernel offset `k`, per axis.
inline int64_t input_index(int64_t out_i, int64_t k, int64_t stride, int64_t pad, int64_t dil) {
  return out_i * stride - pad + k * dil;
}

// The range [lo, hi) of output positions whose input index lies inside [0, size).
inline void valid_range(int64_t size, int64_t out_size, int64_t k, int64_t stride, int64_t pad,
                        int64_t dil, int64_t& lo, int64_t& hi) {
  int64_t offset = k * dil - pad;  // input = out * stride + offset
  lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  hi = size - offset <= 0 ? 0 : (size - offset + stride - 1) / stride;
  hi = std::min(hi, out_size);
  lo = std::min(lo, hi);
}

// Note [shifted planes]: with stride 1, no dilation and "same" padding, the output plane is the
// input plane, and column row (ki, kj) is the input plane shifted by
// shift = (ki - pad_h) * W + (kj - pad_w). im2col then copies each row as one run and col2im adds
// it as one run, instead of one short run per output row (8 to 32 values on CIFAR planes). In a
// run, the values whose column left the plane wrapped around to the neighbouring row: im2col
// zeroes them afterwards, col2im before adding (the column buffer is scratch).
struct ShiftedRow {
  int64_t shift;           // input index = column index + shift
  int64_t row_lo, row_hi;  // output rows that read inside the input
  int64_t col_lo, col_hi;  // output columns that read inside the input
  int64_t run_lo, run_hi;  // the run, trimmed so that the input index stays in the plane
};

ShiftedRow shifted_row(const ConvGeometry& g, int64_t ki, int64_t kj) {
  const int64_t di = ki - g.p.padding[0], dj = kj - g.p.padding[1];
  ShiftedRow r;
  r.shift = di * g.w + dj;
  r.row_lo = std::clamp<int64_t>(-di, 0, g.h);
  r.row_hi = std::clamp<int64_t>(g.h - di, r.row_lo, g.h);
  r.col_lo = std::clamp<int64_t>(-dj, 0, g.w);
  r.col_hi = std::clamp<int64_t>(g.w - dj, r.col_lo, g.w);
  // Kept inside the plane: a kernel wider than the plane (3x3 on 1x1) leaves no valid row, and
  // the untrimmed bounds would then lie past its end.
  const int64_t plane = g.h * g.w;
  r.run_lo = std::min(r.row_lo * g.w + std::max<int64_t>(-dj, 0), plane);
  r.run_hi = std::clamp(r.row_hi * g.w - std::max<int64_t>(dj, 0), r.run_lo, plane);
  return r;
}

// Zeroes the entries of a column row whose column lies outside the input, in the valid rows.
template <class T>
void zero_wrapped(const ConvGeometry& g, const ShiftedRow& r, T* row) {
  for (int64_t oi = r.row_lo; oi < r.row_hi; ++oi) {
    std::fill(row + oi * g.w, row + oi * g.w + r.col_lo, T(0));
    std::fill(row + oi * g.w + r.col_hi, row + (oi + 1) * g.w, T(0));
  }
}

// col's rows are `ld` apart (col_cols() for one image, more when images share a column matrix).
template <class T>
void im2col(const ConvGeometry& g, const T* x, T* col, int64_t ld) {
  const int64_t kk = g.kh * g.kw;
  const bool shifted = g.keeps_plane_size();
  cpu::parallel_for(g.col_rows(), 8, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      int64_t ch = row / kk, ki = (row % kk) / g.kw, kj = row % g.kw;
      const T* plane = x + ch * g.h * g.w;
      T* dst = col + row * ld;
      if (shifted) {
        const ShiftedRow r = shifted_row(g, ki, kj);
        std::fill(dst, dst + r.run_lo, T(0));
        std::copy(plane + r.run_lo + r.shift, plane + r.run_hi + r.shift, dst + r.run_lo);
        std::fill(dst + r.run_hi, dst + g.col_cols(), T(0));
        zero_wrapped(g, r, dst);
        continue;
      }
      int64_t lo_j, hi_j;
      valid_range(g.w, g.ow, kj, g.p.stride[1], g.p.padding[1], g.p.dilation[1], lo_j, hi_j);
      for (int64_t oi = 0; oi < g.oh; ++oi, dst += g.ow) {
        int64_t ii = input_index(oi, ki, g.p.stride[0], g.p.padding[0], g.p.dilation[0]);
        if (ii < 0 || ii >= g.h) {
          std::fill(dst, dst + g.ow, T(0));
          continue;
        }
        const T* src =
            plane + ii * g.w + input_index(0, kj, g.p.stride[1], g.p.padding[1], g.p.dilation[1]);
        std::fill(dst, dst + lo_j, T(0));
        if (g.p.stride[1] == 1) {
          std::copy(src + lo_j, src + hi_j, dst + lo_j);
        } else {
          for (int64_t oj = lo_j; oj < hi_j; ++oj) dst[oj] = src[oj * g.p.stride[1]];
        }
        std::fill(dst + hi_j, dst + g.ow, T(0));
      }
    }
  });
}

// Adds each column entry back into the input position it was read from; `col` is scratch and
// may be changed (Note [shifted planes]). Rows of one channel touch the same plane, so threads
// split by channel.
template <class T>
void col2im(const ConvGeometry& g, T* col, T* x) {
  const int64_t kk = g.kh * g.kw;
  const bool shifted = g.keeps_plane_size();
  cpu::parallel_for(g.cg(), 1, [&](int64_t begin, int64_t end) {
    for (int64_t ch = begin; ch < end; ++ch) {
      T* plane = x + ch * g.h * g.w;
      for (int64_t r = 0; r < kk; ++r) {
        int64_t ki = r / g.kw, kj = r % g.kw;
        T* src = col + (ch * kk + r) * g.col_cols();
        if (shifted) {
          const ShiftedRow sr = shifted_row(g, ki, kj);
          zero_wrapped(g, sr, src);
          for (int64_t q = sr.run_lo; q < sr.run_hi; ++q) plane[q + sr.shift] += src[q];
          continue;
        }
        int64_t lo_j, hi_j;
        valid_range(g.w, g.ow, kj, g.p.stride[1], g.p.padding[1], g.p.dilation[1], lo_j, hi_j);
        for (int64_t oi = 0; oi < g.oh; ++oi, src += g.ow) {
          int64_t ii = input_index(oi, ki, g.p.stride[0], g.p.padding[0], g.p.dilation[0]);
          if (ii < 0 || ii >= g.h) continue;
          T* dst =
              plane + ii * g.w + input_index(0, kj, g.p.stride[1], g.p.padding[1], g.p.dilation[1]);
          for (int64_t oj = lo_j; oj < hi_j; ++oj) dst[oj * g.p.stride[1]] += src[oj];
        }
      }
    }
  });
}

// Below this depth (output pixels per image), conv2d_backward_weight gives several images one GEMM.
constexpr int64_t kMinGemmDepth = 256;

// Calls fn(begin, end, col, slot) over ranges of images. With at least as many images as threads,
// each thread takes a range (slot = its thread number) and its BLAS calls run single-threaded,
// as OpenBLAS does inside an OpenMP parallel region; otherwise one range runs with threaded
// GEMMs. `col` is the calling thread's im2col buffer.
template <class Fn>
void over_images(const ConvGeometry& g, DType dtype, Fn fn) {
  if (g.n >= omp_get_max_threads() && omp_get_max_threads() > 1) {
    cpu::parallel_for(g.n, 1, [&](int64_t begin, int64_t end) {
      Tensor col = g.column_buffer(dtype);
      fn(begin, end, col, omp_get_thread_num());
    });
    return;
  }
  Tensor col = g.column_buffer(dtype);
  fn(int64_t{0}, g.n, col, 0);
}

}  // namespace

void CpuBackend::conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias,
                        const Conv2dParams& p, const Tensor& out) {
  visit_dtype<DTypeSet::floating>(input.dtype(), "conv2d", [&]<class T>() {
    ConvGeometry g(input.shape(), weight.shape(), out.shape(), p);
    const T* x = input.data<T>();
    const T* wt = weight.data<T>();
    const T* b = bias.defined() ? bias.data<T>() : nullptr;
    T* y = out.data<T>();
    if constexpr (std::is_same_v<T, float>) {
      if (cpu::fast_conv2d(g, x, wt, b, y)) return;
    }
    over_images(g, input.dtype(), [&](int64_t begin, int64_t end, Tensor& col, int) {
      for (int64_t i = begin; i < end; ++i) {
        for (int64_t grp = 0; grp < g.groups; ++grp) {
          const T* xg = x + (i * g.c + grp * g.cg()) * g.h * g.w;
          const T* cols = xg;
          if (!g.is_pointwise()) {
            im2col(g, xg, col.data<T>(), g.col_cols());
            cols = col.data<T>();
          }
          // The bias is written first and the product added to it, while the image's output is
          // in cache: a separate pass over the whole output would cost as much as a ReLU.
          T* yg = y + (i * g.o + grp * g.og()) * g.col_cols();
          if (b) {
            for (int64_t o = 0; o < g.og(); ++o)
              std::fill(yg + o * g.col_cols(), yg + (o + 1) * g.col_cols(), b[grp * g.og() + o]);
          }
          cpu::gemm(CblasNoTrans, CblasNoTrans, g.og(), g.col_cols(), g.col_rows(), T(1),
                    wt + grp * g.og() * g.col_rows(), g.col_rows(), cols, g.col_cols(),
                    T(b ? 1 : 0), yg, g.col_cols());
        }
      }
    });
  });
}

void CpuBackend::conv2d_backward_data(const Tensor& grad_out, const Tensor& weight,
                                      const Conv2dParams& p, const Tensor& grad_input) {
  visit_dtype<DTypeSet::floating>(grad_out.dtype(), "conv2d_backward_data", [&]<class T>() {
    ConvGeometry g(grad_input.shape(), weight.shape(), grad_out.shape(), p);
    const T* gy = grad_out.data<T>();
    const T* wt = weight.data<T>();
    T* gx = grad_input.data<T>();
    if constexpr (std::is_same_v<T, float>) {
      if (cpu::fast_conv2d_backward_data(g, gy, wt, gx)) return;
    }
    over_images(g, grad_out.dtype(), [&](int64_t begin, int64_t end, Tensor& col, int) {
      for (int64_t i = begin; i < end; ++i) {
        for (int64_t grp = 0; grp < g.groups; ++grp) {
          T* gxg = gx + (i * g.c + grp * g.cg()) * g.h * g.w;
          T* cols = g.is_pointwise() ? gxg : col.data<T>();
          cpu::gemm(CblasTrans, CblasNoTrans, g.col_rows(), g.col_cols(), g.og(), T(1),
                    wt + grp * g.og() * g.col_rows(), g.col_rows(),
                    gy + (i * g.o + grp * g.og()) * g.col_cols(), g.col_cols(), T(0), cols,
                    g.col_cols());
          if (!g.is_pointwise()) {
            std::fill(gxg, gxg + g.cg() * g.h * g.w, T(0));
            col2im(g, cols, gxg);
          }
        }
      }
    });
  });
}

void CpuBackend::conv2d_backward_weight(const Tensor& input, const Tensor& grad_out,
                                        const Conv2dParams& p, const Tensor& grad_weight) {
  visit_dtype<DTypeSet::floating>(input.dtype(), "conv2d_backward_weight", [&]<class T>() {
    ConvGeometry g(input.shape(), grad_weight.shape(), grad_out.shape(), p);
    const T* x = input.data<T>();
    const T* gy = grad_out.data<T>();
    // Each thread sums its images' contributions into its own slot; the slots are added last.
    // With fewer output channels than column rows (3x3 kernels), a slot holds the transpose,
    // grad_W^T [Cg * KK, Og] += col @ grad_out^T: the GEMM then repacks the small grad_out
    // rather than the column matrix, which halves the time of the narrow first layers.
    const int64_t size = grad_weight.numel();
    const bool transposed = g.og() < g.col_rows();
    const int64_t per_group = g.og() * g.col_rows();
    Tensor partial = zeros({omp_get_max_threads(), size}, {.dtype = input.dtype()});
    // Small planes (8x8, 4x4) make a GEMM of depth HW per image, and each one would stream the
    // whole slot through the cache; images share one GEMM instead, their column matrices side
    // by side ([Cg * KK, images * HW]) and their gradients gathered alike ([O, images * HW]).
    const int64_t images = g.groups == 1 && !g.is_pointwise() && g.col_cols() < kMinGemmDepth
                               ? std::min(g.n, (kMinGemmDepth + g.col_cols() - 1) / g.col_cols())
                               : 1;
    auto batched = [&](int64_t begin, int64_t end, T* gw) {
      Tensor cols = empty({g.col_rows() * images * g.col_cols()}, {.dtype = input.dtype()});
      Tensor grads = empty({g.o * images * g.col_cols()}, {.dtype = input.dtype()});
      T* c = cols.data<T>();
      T* gr = grads.data<T>();
      for (int64_t i = begin; i < end; i += images) {
        const int64_t count = std::min(images, end - i), ld = count * g.col_cols();
        for (int64_t j = 0; j < count; ++j) {
          im2col(g, x + (i + j) * g.c * g.h * g.w, c + j * g.col_cols(), ld);
          for (int64_t o = 0; o < g.o; ++o) {
            const T* from = gy + ((i + j) * g.o + o) * g.col_cols();
            std::copy(from, from + g.col_cols(), gr + o * ld + j * g.col_cols());
          }
        }
        if (transposed) {
          cpu::gemm(CblasNoTrans, CblasTrans, g.col_rows(), g.o, ld, T(1), c, ld, gr, ld, T(1), gw,
                    g.o);
        } else {
          cpu::gemm(CblasNoTrans, CblasTrans, g.o, g.col_rows(), ld, T(1), gr, ld, c, ld, T(1), gw,
                    g.col_rows());
        }
      }
    };
    bool fast = false;
    if constexpr (std::is_same_v<T, float>) {
      fast = cpu::fast_conv2d_backward_weight(g, x, gy, partial.data<T>(), size, transposed);
    }
    if (!fast)
      over_images(g, input.dtype(), [&](int64_t begin, int64_t end, Tensor& col, int slot) {
        T* gw = partial.data<T>() + slot * size;
        if (images > 1) {
          batched(begin, end, gw);
          return;
        }
        for (int64_t i = begin; i < end; ++i) {
          for (int64_t grp = 0; grp < g.groups; ++grp) {
            const T* xg = x + (i * g.c + grp * g.cg()) * g.h * g.w;
            const T* cols = xg;
            if (!g.is_pointwise()) {
              im2col(g, xg, col.data<T>(), g.col_cols());
              cols = col.data<T>();
            }
            const T* gyg = gy + (i * g.o + grp * g.og()) * g.col_cols();
            if (transposed) {
              cpu::gemm(CblasNoTrans, CblasTrans, g.col_rows(), g.og(), g.col_cols(), T(1), cols,
                        g.col_cols(), gyg, g.col_cols(), T(1), gw + grp * per_group, g.og());
            } else {
              cpu::gemm(CblasNoTrans, CblasTrans, g.og(), g.col_rows(), g.col_cols(), T(1), gyg,
                        g.col_cols(), cols, g.col_cols(), T(1), gw + grp * per_group, g.col_rows());
            }
          }
        }
      });
    T* gw = grad_weight.data<T>();
    const T* slots = partial.data<T>();
    const int64_t n_slots = partial.size(0);
    // grad_W's element (group, o, r); a transposed slot holds it at (group, r, o).
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      for (int64_t o = 0; o < g.og(); ++o) {
        for (int64_t r = 0; r < g.col_rows(); ++r) {
          const int64_t k = grp * per_group + o * g.col_rows() + r;
          const int64_t at = transposed ? grp * per_group + r * g.og() + o : k;
          T total = 0;
          for (int64_t t = 0; t < n_slots; ++t) total += slots[t * size + at];
          gw[k] = total;
        }
      }
    }
  });
}

}  // namespace nabla
