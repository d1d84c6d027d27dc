// 2x2 max pooling with stride 2 for float32 on CPUs with AVX-512 (core/cpu/pool_avx512.cpp) or
// AVX2 (core/cpu/pool_avx2.cpp). Private to core/cpu; pool.cpp picks the widest the CPU runs
// (isa.h).
#pragma once

#include <cstdint>

namespace nabla::cpu {

// One [h, w] plane (w its row length) into [oh, ow] outputs, with oh * 2 <= h and ow * 2 <= w;
// indices are flat positions in the plane. Same results as the scalar loop: the first maximum
// of a window wins, and a NaN beats every number.
void max_pool2x2_avx512(const float* src, int64_t w, int64_t oh, int64_t ow, float* out,
                        int64_t* indices);
void max_pool2x2_avx2(const float* src, int64_t w, int64_t oh, int64_t ow, float* out,
                      int64_t* indices);

}  // namespace nabla::cpu
