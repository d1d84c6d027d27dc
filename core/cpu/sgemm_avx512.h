// nabla's own float32 GEMM for CPUs with AVX-512 (core/cpu/sgemm_avx512.cpp). Private to
// core/cpu; cpu::gemm (blas.h) picks it when the CPU has AVX-512.
#pragma once

#include <cstdint>

namespace nabla::cpu {

// C = alpha * op(A) @ op(B) + beta * C, row-major, on the calling thread; C is not read when
// beta is 0. Call only where has_avx512() (isa.h).
void sgemm_avx512(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                  int64_t ldc);

}  // namespace nabla::cpu
