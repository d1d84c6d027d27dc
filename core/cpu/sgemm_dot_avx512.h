// The GEMM form for products with a long depth and few columns (core/cpu/sgemm_dot_avx512.cpp).
// Private to core/cpu: sgemm_avx512 (sgemm_kernels.h) hands it the products its packed panels would
// waste lanes on.
#pragma once

#include <cstdint>

#include "core/cpu/sgemm.h"

namespace nabla::cpu {

// C = alpha * op(A) @ op(B) + beta * C where op(A)'s rows and op(B)'s columns are both
// contiguous along the depth: A not transposed, B transposed (either may be a line table). C is
// not read when beta is 0. Call only where has_avx512() (isa.h).
void sgemm_dot_avx512(int64_t m, int64_t n, int64_t k, float alpha, const GemmOperand& a,
                      const GemmOperand& b, float beta, float* c, int64_t ldc);

}  // namespace nabla::cpu
