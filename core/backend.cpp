// The backend registry: one Backend per device type.
#include "core/backend.h"

#include <array>

#include "core/cpu/cpu_backend.h"

namespace nabla {

namespace {
std::array<Backend*, kDeviceTypeCount>& registry() {
  static CpuBackend cpu;
  static std::array<Backend*, kDeviceTypeCount> backends{&cpu, nullptr};
  return backends;
}
}  // namespace

Backend& backend(Device device) {
  Backend* b = registry()[static_cast<int>(device.type)];
  NABLA_CHECK(b != nullptr, DeviceError, "no backend is registered for ", device,
              (device.is_cuda() ? ": this build of nabla has no CUDA support, or no CUDA device "
                                  "was found"
                                : ""));
  return *b;
}

void register_backend(DeviceType type, Backend* b) { registry()[static_cast<int>(type)] = b; }

bool has_bool_result(BinaryOp op) {
  return op == BinaryOp::eq || op == BinaryOp::ne || op == BinaryOp::lt || op == BinaryOp::le ||
         op == BinaryOp::gt || op == BinaryOp::ge || op == BinaryOp::logical_and ||
         op == BinaryOp::logical_or;
}

}  // namespace nabla
