// Which instruction sets this CPU offers beyond the build's baseline. The build stays portable:
// kernels for a wider set are compiled per function (target attributes) and chosen at run time.
#pragma once

namespace nabla::cpu {

// The sets the kernels are written for, narrowest first.
enum class Capability { baseline, avx2, avx512 };

// The widest set the CPU offers (AVX2 counts only with FMA), lowered by the environment variable
// NABLA_CPU_CAPABILITY=avx2|baseline. Read once. The cap lets the tests run every kernel on one
// machine, and a user rule one out; an unknown value is ignored with a warning.
Capability cpu_capability();

// Whether the kernels may use AVX-512 Foundation.
inline bool has_avx512() {
  static const bool supported = cpu_capability() >= Capability::avx512;
  return supported;
}

// Whether the kernels may use AVX2 with fused multiply-add: every x86-64 CPU since 2013-2015.
inline bool has_avx2_fma() {
  static const bool supported = cpu_capability() >= Capability::avx2;
  return supported;
}

}  // namespace nabla::cpu
