// Settling the int8 kernel for an input, and running a product across threads.
#include "quant/int8_driver.h"

#include <omp.h>

#include <algorithm>
#include <atomic>

#include "core/error.h"

namespace nabla::quant {

namespace {

// The largest byte of x: an OR is enough to see whether one has its top bit set.
bool has_8bit_value(const uint8_t* x, int64_t n) {
  constexpr int64_t kChunk = 1 << 16;
  std::atomic<bool> found{false};
  parallel_ranges((n + kChunk - 1) / kChunk, 4, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end && !found.load(std::memory_order_relaxed); ++c) {
      uint8_t bits = 0;
      const int64_t stop = std::min(n, (c + 1) * kChunk);
      for (int64_t i = c * kChunk; i < stop; ++i) bits |= x[i];
      if (bits & 0x80) found.store(true, std::memory_order_relaxed);
    }
  });
  return found.load();
}

}  // namespace

Int8Kernel settle_int8_kernel(Int8Kernel requested, const uint8_t* x, int64_t n, int padding,
                              const char* op) {
  const Int8Kernel kernel = choose_int8_kernel(requested, op);
  if (!int8_needs_7bit(kernel)) return kernel;
  if (requested == Int8Kernel::automatic)
    return padding > 127 || has_8bit_value(x, n) ? Int8Kernel::avx2 : kernel;
  NABLA_CHECK(padding <= 127, ValueError, op, ": the int8 kernel ", kernel,
              " needs activations in [0, 127] (quantized with reduce_range), but the input's zero "
              "point, which pads it, is ",
              padding);
  NABLA_CHECK(!has_8bit_value(x, n), ValueError, op, ": the int8 kernel ", kernel,
              " needs activations in [0, 127] (quantized with reduce_range), but the input holds "
              "values above 127");
  return kernel;
}

void run_int8_product(kernels::KernelFn kernel, const kernels::Problem& p) {
  const int64_t panels = kernels::panel_count(p.lanes);
  const int64_t threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  // Below a few tiles' worth of rows per thread, the panels are shared out instead.
  constexpr int64_t kRowsPerThread = 32;
  if (threads > 1 && p.rows >= threads * kRowsPerThread) {
    constexpr int64_t kAlign = 24;  // whole register tiles of 4, 6 or 8 rows
    const int64_t units = (p.rows + kAlign - 1) / kAlign;
    parallel_ranges(units, 1, [&](int64_t begin, int64_t end) {
      kernel(p, begin * kAlign, std::min(p.rows, end * kAlign), 0, panels);
    });
    return;
  }
  parallel_ranges(panels, 1, [&](int64_t begin, int64_t end) { kernel(p, 0, p.rows, begin, end); });
}

}  // namespace nabla::quant
