// sgemm's entry: the cases no kernel needs to see, then the widest kernel the CPU runs.
#include "core/cpu/sgemm.h"

#include "core/cpu/isa.h"
#include "core/cpu/sgemm_kernels.h"

namespace nabla::cpu {

bool has_sgemm_kernel() { return has_avx2_fma(); }  // AVX-512 CPUs count too

void sgemm(int64_t m, int64_t n, int64_t k, float alpha, const GemmOperand& a, const GemmOperand& b,
           float beta, float* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j];
    return;
  }
  // A general beta scales C once; the kernels then accumulate with beta 1.
  if (beta != 0 && beta != 1) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] *= beta;
    beta = 1;
  }
  if (has_avx512()) {
    sgemm_avx512(m, n, k, alpha, a, b, beta, c, ldc);
  } else {
    sgemm_avx2(m, n, k, alpha, a, b, beta, c, ldc);
  }
}

}  // namespace nabla::cpu
