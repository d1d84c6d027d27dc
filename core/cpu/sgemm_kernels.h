// The instruction-set kernels behind sgemm (sgemm.h), each compiled for its set per function so
// that the rest of the build stays portable. Private to core/cpu: only sgemm.cpp calls them,
// after it has dealt with empty products and a general beta.
#pragma once

#include <cstdint>

#include "core/cpu/sgemm.h"

namespace nabla::cpu {

// As sgemm, for m, n, k > 0, alpha != 0 and beta 0 or 1. Call only where the CPU has the set.
void sgemm_avx512(int64_t m, int64_t n, int64_t k, float alpha, const GemmOperand& a,
                  const GemmOperand& b, float beta, float* c, int64_t ldc);
void sgemm_avx2(int64_t m, int64_t n, int64_t k, float alpha, const GemmOperand& a,
                const GemmOperand& b, float beta, float* c, int64_t ldc);

}  // namespace nabla::cpu
