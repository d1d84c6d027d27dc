// The int8 kernels this CPU runs, and the choice among them.
#include "quant/int8_dispatch.h"

#include <cpuid.h>

#include <algorithm>
#include <cstdlib>
#include <ostream>
#include <string_view>

#include "core/error.h"
#include "quant/kernels/int8_kernels.h"

namespace nabla::quant {

namespace {

// The instruction-set classes of NABLA_CPU_CAPABILITY, read as core's kernels read it
// (core/cpu/isa.h, private to core; core warns about an unknown value): avx512 or unset, no
// cap; avx2, nothing of AVX-512; baseline, portable code only.
enum class Cap { baseline, avx2, avx512 };

Cap capability() {
  Cap hardware = Cap::baseline;
  if (__builtin_cpu_supports("avx512f")) {
    hardware = Cap::avx512;
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    hardware = Cap::avx2;
  }
  const char* value = std::getenv("NABLA_CPU_CAPABILITY");
  const std::string_view cap = value ? value : "";
  if (cap == "baseline") return Cap::baseline;
  if (cap == "avx2") return std::min(hardware, Cap::avx2);
  return hardware;
}

bool has_avx2_fma() {
  static const bool supported =
      capability() >= Cap::avx2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return supported;
}

bool has_avx512() {
  static const bool supported = capability() >= Cap::avx512;
  return supported;
}

// AVX-VNNI is CPUID leaf 7, subleaf 1, EAX bit 4; asked directly, as clang 14's
// __builtin_cpu_supports does not know it. The OS saves the registers it uses when it saves AVX2's.
bool cpu_has_avx_vnni() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) return false;
  return (eax >> 4) & 1;
}

// AVX-VNNI comes with AVX2-class CPUs (Alder Lake, Zen 5), so the avx2 cap keeps it; AVX-512 VNNI
// also needs BW and VL for the byte stores of the output step.
bool cpu_runs(Int8Kernel kernel) {
  switch (kernel) {
    case Int8Kernel::automatic:
    case Int8Kernel::scalar:
      return true;
    case Int8Kernel::avx2_u7:
    case Int8Kernel::avx2:
      return has_avx2_fma();
    case Int8Kernel::avx_vnni:
      return has_avx2_fma() && cpu_has_avx_vnni();
    case Int8Kernel::avx512_vnni:
      return has_avx512() && __builtin_cpu_supports("avx512vnni") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  }
  return false;
}

}  // namespace

const char* name(Int8Kernel kernel) {
  switch (kernel) {
    case Int8Kernel::automatic:
      return "automatic";
    case Int8Kernel::scalar:
      return "scalar";
    case Int8Kernel::avx2_u7:
      return "avx2_u7";
    case Int8Kernel::avx2:
      return "avx2";
    case Int8Kernel::avx_vnni:
      return "avx_vnni";
    case Int8Kernel::avx512_vnni:
      return "avx512_vnni";
  }
  return "unknown";
}

std::ostream& operator<<(std::ostream& os, Int8Kernel kernel) { return os << name(kernel); }

bool int8_kernel_available(Int8Kernel kernel) {
  static const bool available[] = {
      cpu_runs(Int8Kernel::automatic), cpu_runs(Int8Kernel::scalar),
      cpu_runs(Int8Kernel::avx2_u7),   cpu_runs(Int8Kernel::avx2),
      cpu_runs(Int8Kernel::avx_vnni),  cpu_runs(Int8Kernel::avx512_vnni)};
  const auto index = static_cast<size_t>(kernel);
  return index < std::size(available) && available[index];
}

std::vector<Int8Kernel> available_int8_kernels() {
  std::vector<Int8Kernel> kernels;
  for (Int8Kernel k : {Int8Kernel::scalar, Int8Kernel::avx2_u7, Int8Kernel::avx2,
                       Int8Kernel::avx_vnni, Int8Kernel::avx512_vnni})
    if (int8_kernel_available(k)) kernels.push_back(k);
  return kernels;
}

Int8Kernel choose_int8_kernel(Int8Kernel requested, const char* op) {
  if (requested != Int8Kernel::automatic) {
    NABLA_CHECK(int8_kernel_available(requested), DeviceError, op, ": the int8 kernel ", requested,
                " does not run on this CPU (or NABLA_CPU_CAPABILITY rules it out)");
    return requested;
  }
  for (Int8Kernel k : {Int8Kernel::avx512_vnni, Int8Kernel::avx_vnni, Int8Kernel::avx2_u7})
    if (int8_kernel_available(k)) return k;
  return Int8Kernel::scalar;
}

namespace kernels {

KernelFn kernel_entry(Int8Kernel kernel) {
  switch (kernel) {
    case Int8Kernel::avx2_u7:
      return gemm_avx2_u7;
    case Int8Kernel::avx2:
      return gemm_avx2_exact;
    case Int8Kernel::avx_vnni:
      return gemm_avx_vnni;
    case Int8Kernel::avx512_vnni:
      return gemm_avx512_vnni;
    default:
      return gemm_scalar;
  }
}

Format kernel_format(Int8Kernel kernel) {
  return kernel == Int8Kernel::avx2 ? Format::pairs : Format::quads;
}

}  // namespace kernels

}  // namespace nabla::quant
