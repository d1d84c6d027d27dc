// CPU batched matmul through OpenBLAS sgemm/dgemm. A transposed view is handed to BLAS as a
// transpose flag with its leading dimension, never copied.
#include "core/cpu/blas.h"
#include "core/cpu/cpu_backend.h"
#include "core/cpu/loops.h"
#include "core/ops.h"

namespace nabla {

namespace {

// How BLAS can read a [rows, cols] matrix with element strides (row_stride, col_stride).
struct BlasLayout {
  bool usable;
  CBLAS_TRANSPOSE trans;
  int64_t ld;
};

BlasLayout layout_of(int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride) {
  // A size-1 dim's stride is arbitrary; pick the one that makes the layout valid.
  if (cols == 1) col_stride = 1;
  if (rows == 1) row_stride = std::max<int64_t>(cols, 1);
  if (col_stride == 1 && row_stride >= std::max<int64_t>(cols, 1))
    return {true, CblasNoTrans, row_stride};
  if (rows == 1 && col_stride >= 1) return {true, CblasTrans, col_stride};
  if (row_stride == 1 && col_stride >= std::max<int64_t>(rows, 1))
    return {true, CblasTrans, col_stride};
  return {false, CblasNoTrans, 0};
}

// Note [threads split the GEMM]: a GEMM handed whole to OpenBLAS's threads synchronizes them per
// packed panel, and when other processes hold the cores, a thread that waits for a descheduled
// partner loses its time slice each time (measured: a 784-512-256-10 MLP step 5 ms alone,
// 30-200 ms beside another busy process). A block per thread with a single-threaded GEMM each
// waits once, at the end. Each thread packs the shared operand itself, which costs little beside
// the multiply once a block has some 64 rows or columns.
int64_t gemm_grain(int64_t m, int64_t n, int64_t k) {
  constexpr int64_t kMinBlockFlop = int64_t{1} << 21;  // below this, one thread does it all
  const int64_t per_line = std::max<int64_t>(std::min(m, n) * k, 1);
  return std::max<int64_t>(16, kMinBlockFlop / per_line);
}

}  // namespace

void CpuBackend::matmul(const Tensor& a_in, const Tensor& b_in, const Tensor& out) {
  visit_dtype<DTypeSet::floating>(a_in.dtype(), "matmul", [&]<class T>() {
    const int64_t batch = a_in.size(0), m = a_in.size(1), k = a_in.size(2), n = b_in.size(2);
    Tensor a = a_in, b = b_in;
    BlasLayout la = layout_of(m, k, a.stride(1), a.stride(2));
    BlasLayout lb = layout_of(k, n, b.stride(1), b.stride(2));
    if (!la.usable) {
      a = core::contiguous(a);
      la = layout_of(m, k, a.stride(1), a.stride(2));
    }
    if (!lb.usable) {
      b = core::contiguous(b);
      lb = layout_of(k, n, b.stride(1), b.stride(2));
    }
    T* c = out.data<T>();
    if (out.numel() == 0) return;
    if (k == 0) {
      std::fill(c, c + out.numel(), T(0));
      return;
    }
    for (int64_t i = 0; i < batch; ++i) {
      const T* ai = a.data<T>() + i * a.stride(0);
      const T* bi = b.data<T>() + i * b.stride(0);
      T* ci = c + i * m * n;
      // Threads split C into column blocks (or row blocks when C is tall) and each runs a
      // single-threaded GEMM on its block: one synchronization per product, where OpenBLAS's
      // own threads wait on each other per panel (Note [threads split the GEMM]).
      const bool by_rows = m > n;
      cpu::parallel_for(by_rows ? m : n, gemm_grain(m, n, k), [&](int64_t begin, int64_t end) {
        if (by_rows) {
          const T* a_rows = ai + begin * (la.trans == CblasNoTrans ? la.ld : 1);
          cpu::gemm(la.trans, lb.trans, end - begin, n, k, T(1), a_rows, la.ld, bi, lb.ld, T(0),
                    ci + begin * n, n);
        } else {
          const T* b_cols = bi + begin * (lb.trans == CblasNoTrans ? 1 : lb.ld);
          cpu::gemm(la.trans, lb.trans, m, end - begin, k, T(1), ai, la.ld, b_cols, lb.ld, T(0),
                    ci + begin, n);
        }
      });
    }
  });
}

}  // namespace nabla
