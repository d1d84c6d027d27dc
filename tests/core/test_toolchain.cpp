// Code the compiler is known to have got wrong, built with nabla's flags: CMake's workarounds
// (cmake/NablaTargets.cmake) keep it right.
#include <doctest/doctest.h>

#include <vector>

#if defined(__x86_64__)
namespace {
// GCC 12 builds this constant with one 256-bit broadcast, as four 1s, in any function compiled
// for AVX-512 (all of them under -march=native on an AVX-512 CPU) unless SLP vectorization is off.
__attribute__((noinline, target("avx512f"))) std::vector<double> ones_then_zeros() {
  return {1, 1, 0, 0};
}
}  // namespace

TEST_CASE("toolchain: a constant vector built for AVX-512 keeps its values") {
  if (!__builtin_cpu_supports("avx512f")) return;  // the function cannot run here, nor its bug
  CHECK(ones_then_zeros() == std::vector<double>{1, 1, 0, 0});
}
#endif
