// CPU batched matmul through OpenBLAS sgemm/dgemm. A transposed view is handed to BLAS as a
// transpose flag with its leading dimension, never copied.
#include "core/cpu/blas.h"
#include "core/cpu/cpu_backend.h"
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
    for (int64_t i = 0; i < batch; ++i)
      cpu::gemm(la.trans, lb.trans, m, n, k, T(1), a.data<T>() + i * a.stride(0), la.ld,
                b.data<T>() + i * b.stride(0), lb.ld, T(0), c + i * m * n, n);
  });
}

}  // namespace nabla
