// Typed GEMM wrappers, so kernels templated on float/double call one name: OpenBLAS, or for
// float nabla's own AVX-512 kernel (sgemm.h).
// Private to core/cpu: public headers never include cblas.h.
#pragma once

#include <cblas.h>
#include <omp.h>

#include <cstdint>

#include "core/cpu/isa.h"
#include "core/cpu/sgemm.h"

namespace nabla::cpu {

// C = alpha * op(A) @ op(B) + beta * C, all row-major.
// float runs on nabla's own AVX-512 kernel where the CPU has one and the caller is one thread of
// a team (or nabla runs one thread): on the narrow products of convolutions it is about twice as
// fast as OpenBLAS's AVX2 kernels and on par with its AVX-512 ones. Otherwise OpenBLAS, whose own
// threads then share the product. (nabla's AVX2 kernel measured no faster than OpenBLAS's on the
// products that come here, the MLP's and im2col's, so AVX2 CPUs keep OpenBLAS.)
inline void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t m, int64_t n, int64_t k,
                 float alpha, const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                 float* c, int64_t ldc) {
  if (has_avx512() && (omp_in_parallel() || omp_get_max_threads() == 1)) {
    sgemm(m, n, k, alpha, {.data = a, .ld = lda, .trans = ta == CblasTrans},
          {.data = b, .ld = ldb, .trans = tb == CblasTrans}, beta, c, ldc);
    return;
  }
  cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

inline void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t m, int64_t n, int64_t k,
                 double alpha, const double* a, int64_t lda, const double* b, int64_t ldb,
                 double beta, double* c, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace nabla::cpu
