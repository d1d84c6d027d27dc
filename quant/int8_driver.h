// What the int8 linear and convolution drivers share: settling the kernel for the input at hand,
// and splitting a product across nabla's threads. Private to quant/.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "quant/int8_dispatch.h"
#include "quant/kernels/int8_kernels.h"

namespace nabla::quant {

// choose_int8_kernel(requested), then, when that is avx2_u7, a look at the activations: x's n
// bytes and `padding` (the value im2col pads with, or -1). A value above 127 moves automatic to
// the exact avx2 kernel and makes a requested avx2_u7 a ValueError naming `op`.
Int8Kernel settle_int8_kernel(Int8Kernel requested, const uint8_t* x, int64_t n, int padding,
                              const char* op);

// Runs fn(begin, end) over [0, n) in one contiguous range per thread of nabla's (set_num_threads),
// at least `grain` items each; on the calling thread alone inside a parallel region, where the
// caller already is one of the threads.
template <class Fn>
void parallel_ranges(int64_t n, int64_t grain, Fn&& fn) {
  const int64_t max_threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  const int64_t threads = std::min(max_threads, n / std::max<int64_t>(grain, 1));
  if (threads <= 1) {
    if (n > 0) fn(int64_t{0}, n);
    return;
  }
#pragma omp parallel num_threads(static_cast <int>(threads))
  {
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t begin = n * t / nt, end = n * (t + 1) / nt;
    if (begin < end) fn(begin, end);
  }
}

// Runs the product on nabla's threads (one when called inside a parallel region): contiguous
// ranges of rows when there are enough rows for every thread, else ranges of panels.
void run_int8_product(kernels::KernelFn kernel, const kernels::Problem& p);

}  // namespace nabla::quant
