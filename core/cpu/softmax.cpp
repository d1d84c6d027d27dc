// CPU softmax and log-softmax along one dim of a contiguous tensor.
#include <cmath>
#include <limits>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/loops.h"

namespace nabla {

void CpuBackend::softmax(const Tensor& x, int64_t dim, bool log, const Tensor& out) {
  NABLA_ASSERT(x.is_contiguous() && out.is_contiguous());
  visit_dtype<DTypeSet::floating>(x.dtype(), "softmax", [&]<class T>() {
    const int64_t d = x.size(dim);
    int64_t inner = 1;
    for (int64_t k = dim + 1; k < x.dim(); ++k) inner *= x.size(k);
    const int64_t outer = d == 0 ? 0 : x.numel() / (d * inner);
    const T* in = x.data<T>();
    T* o = out.data<T>();
    // One (outer, inner) row at a time: x[o, :, i] with stride `inner`.
    cpu::parallel_for(outer * inner, std::max<int64_t>(1, 4096 / std::max<int64_t>(d, 1)),
                      [&](int64_t begin, int64_t end) {
                        for (int64_t r = begin; r < end; ++r) {
                          const T* row = in + (r / inner) * d * inner + r % inner;
                          T* dst = o + (row - in);
                          T m = -std::numeric_limits<T>::infinity();
                          for (int64_t k = 0; k < d; ++k) m = std::max(m, row[k * inner]);
                          T sum = 0;
                          for (int64_t k = 0; k < d; ++k) sum += std::exp(row[k * inner] - m);
                          if (log) {
                            T shift = m + std::log(sum);
                            for (int64_t k = 0; k < d; ++k) dst[k * inner] = row[k * inner] - shift;
                          } else {
                            T inv = T(1) / sum;
                            for (int64_t k = 0; k < d; ++k)
                              dst[k * inner] = std::exp(row[k * inner] - m) * inv;
                          }
                        }
                      });
  });
}

}  // namespace nabla
