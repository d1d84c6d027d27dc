// Which int8 GEMM kernel runs: the CPU's instruction sets, the cap NABLA_CPU_CAPABILITY puts on
// them (core/cpu/isa.h), and the caller's choice.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <vector>

namespace nabla::quant {

// The kernels, narrowest first (quant/kernels/int8_kernels.h has how each multiplies):
//   scalar:      portable integer loops;
//   avx2_u7:     AVX2 vpmaddubsw, exact only for activations in [0, 127] (reduce_range);
//   avx2:        AVX2 with int16 operands and vpmaddwd, exact for any uint8 activations;
//   avx_vnni:    256-bit vpdpbusd (AVX-VNNI);
//   avx512_vnni: 512-bit vpdpbusd (AVX-512 VNNI).
// automatic picks the fastest one this CPU runs that is exact for the input at hand.
enum class Int8Kernel : uint8_t { automatic, scalar, avx2_u7, avx2, avx_vnni, avx512_vnni };

const char* name(Int8Kernel kernel);
std::ostream& operator<<(std::ostream& os, Int8Kernel kernel);

// Whether this CPU runs `kernel` under NABLA_CPU_CAPABILITY's cap (baseline leaves scalar only,
// avx2 rules out avx512_vnni). automatic is always available.
bool int8_kernel_available(Int8Kernel kernel);

// The kernels this CPU runs, automatic left out, narrowest first: what the tests go through.
std::vector<Int8Kernel> available_int8_kernels();

// `requested` itself when it is available (a DeviceError naming `op` when not), or for automatic
// the fastest available kernel, assuming 7-bit activations; the drivers then check the input
// and move from avx2_u7 to avx2 when it holds larger values (int8_needs_7bit).
Int8Kernel choose_int8_kernel(Int8Kernel requested, const char* op);

// Whether `kernel` needs activations in [0, 127].
inline bool int8_needs_7bit(Int8Kernel kernel) { return kernel == Int8Kernel::avx2_u7; }

}  // namespace nabla::quant
