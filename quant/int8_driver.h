// What the int8 linear and convolution drivers share: settling the kernel for the input at hand,
// and splitting a product across nabla's threads. Private to quant/.
#pragma once

#include <cstdint>

#include "quant/int8_dispatch.h"
#include "quant/kernels/int8_kernels.h"

namespace nabla::quant {

// choose_int8_kernel(requested), then, when that is avx2_u7, a look at the activations: x's n
// bytes and `padding` (the value im2col pads with, or -1). A value above 127 moves automatic to
// the exact avx2 kernel and makes a requested avx2_u7 a ValueError naming `op`.
Int8Kernel settle_int8_kernel(Int8Kernel requested, const uint8_t* x, int64_t n, int padding,
                              const char* op);

// Runs the product on nabla's threads (one when called inside a parallel region): contiguous
// ranges of rows when there are enough rows for every thread, else ranges of panels.
void run_int8_product(kernels::KernelFn kernel, const kernels::Problem& p);

}  // namespace nabla::quant
