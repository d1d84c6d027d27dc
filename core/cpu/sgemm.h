// nabla's own single-threaded float32 GEMM, the one the convolutions build on: kernels for
// AVX-512 (sgemm_avx512.cpp) and for AVX2 with FMA (sgemm_avx2.cpp) under one blocked driver
// (sgemm_blocked.h). Private to core/cpu; cpu::gemm (blas.h) picks it where it beats OpenBLAS,
// and the convolutions hand it operands given line by line (Note [implicit GEMM] in
// conv_implicit.cpp).
#pragma once

#include <cstdint>

namespace nabla::cpu {

// op(X) of a GEMM operand. Either a row-major matrix (data, ld), transposed when `trans`; or a
// table of `lines`, each a contiguous run of floats: for A, op(A)'s rows; for B, op(B)'s rows,
// or its columns when `trans`. A line table lets a product read shifted windows of one buffer
// as if they were the rows of a matrix, without copying them into one.
struct GemmOperand {
  const float* data = nullptr;
  int64_t ld = 0;
  bool trans = false;
  const float* const* lines = nullptr;
};

// Whether this CPU runs one of sgemm's kernels (AVX-512, or AVX2 with FMA); checked once.
bool has_sgemm_kernel();

// C = alpha * op(A) @ op(B) + beta * C, row-major, on the calling thread; C is not read when
// beta is 0. op(A): [m, k], op(B): [k, n]. A line table for A must not be transposed. Call only
// where has_sgemm_kernel().
void sgemm(int64_t m, int64_t n, int64_t k, float alpha, const GemmOperand& a, const GemmOperand& b,
           float beta, float* c, int64_t ldc);

}  // namespace nabla::cpu
