// The CPU's instruction sets, and the cap NABLA_CPU_CAPABILITY puts on them.
#include "core/cpu/isa.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace nabla::cpu {

namespace {

Capability detected() {
  if (__builtin_cpu_supports("avx512f")) return Capability::avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Capability::avx2;
  return Capability::baseline;
}

Capability capped(Capability hardware) {
  const char* value = std::getenv("NABLA_CPU_CAPABILITY");
  if (!value || !*value) return hardware;
  const std::string_view cap(value);
  if (cap == "avx512") return hardware;
  if (cap == "avx2") return std::min(hardware, Capability::avx2);
  if (cap == "baseline") return Capability::baseline;
  std::fprintf(stderr,
               "nabla: ignoring NABLA_CPU_CAPABILITY=%s (expected avx512, avx2 or baseline)\n",
               value);
  return hardware;
}

}  // namespace

Capability cpu_capability() {
  static const Capability capability = capped(detected());
  return capability;
}

}  // namespace nabla::cpu
