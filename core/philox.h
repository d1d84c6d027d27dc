// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a
// counter-based generator. Element i of a draw hashes counter (offset + i) under the seed, so any
// thread, on the CPU or a GPU, computes the same value for the same element.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define NABLA_HOST_DEVICE __host__ __device__
#else
#define NABLA_HOST_DEVICE
#endif

namespace nabla {

NABLA_HOST_DEVICE inline std::array<uint32_t, 4> philox4x32(uint64_t counter, uint64_t seed) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32);
  uint32_t c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c0;
    uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c2;
    uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    c1 = static_cast<uint32_t>(p1);
    c3 = static_cast<uint32_t>(p0);
    c0 = n0;
    c2 = n2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {c0, c1, c2, c3};
}

// A double in (0, 1] from 53 random bits: never 0, so log() is safe for Box-Muller.
NABLA_HOST_DEVICE inline double philox_uniform_open0(uint32_t hi, uint32_t lo) {
  uint64_t bits = ((static_cast<uint64_t>(hi) << 32) | lo) >> 11;
  return (static_cast<double>(bits) + 1.0) * 0x1.0p-53;
}

// The standard normal draw for one counter, by Box-Muller over two 53-bit uniforms.
NABLA_HOST_DEVICE inline double philox_normal(uint64_t counter, uint64_t seed) {
  std::array<uint32_t, 4> r = philox4x32(counter, seed);
  double u1 = philox_uniform_open0(r[0], r[1]), u2 = philox_uniform_open0(r[2], r[3]);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

// A double in [0, 1) for one counter.
NABLA_HOST_DEVICE inline double philox_uniform(uint64_t counter, uint64_t seed) {
  std::array<uint32_t, 4> r = philox4x32(counter, seed);
  return philox_uniform_open0(r[0], r[1]) - 0x1.0p-53;
}

NABLA_HOST_DEVICE inline uint64_t philox_bits64(uint64_t counter, uint64_t seed) {
  std::array<uint32_t, 4> r = philox4x32(counter, seed);
  return (static_cast<uint64_t>(r[0]) << 32) | r[1];
}

}  // namespace nabla
