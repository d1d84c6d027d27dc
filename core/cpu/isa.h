// Which instruction sets this CPU offers beyond the build's baseline. The build stays portable:
// kernels for a wider set are compiled per function (target attributes) and chosen at run time.
#pragma once

namespace nabla::cpu {

// AVX-512 Foundation (checked once).
inline bool has_avx512() {
  static const bool supported = __builtin_cpu_supports("avx512f");
  return supported;
}

}  // namespace nabla::cpu
