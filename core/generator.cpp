// The default generators and manual_seed.
#include "core/generator.h"

#include <array>

namespace nabla {

void Generator::manual_seed(uint64_t seed) {
  std::lock_guard lock(mutex_);
  seed_ = seed;
  offset_ = 0;
}

uint64_t Generator::advance(uint64_t count) {
  std::lock_guard lock(mutex_);
  uint64_t first = offset_;
  offset_ += count;
  return first;
}

Generator::State Generator::state() const {
  std::lock_guard lock(mutex_);
  return {seed_, offset_};
}

void Generator::set_state(State state) {
  std::lock_guard lock(mutex_);
  seed_ = state.seed;
  offset_ = state.offset;
}

namespace {
constexpr int kMaxDevicesPerType = 16;
Generator& generator_slot(DeviceType type, int index) {
  static std::array<std::array<Generator, kMaxDevicesPerType>, kDeviceTypeCount> generators;
  return generators[static_cast<int>(type)][index];
}
}  // namespace

Generator& default_generator(Device device) {
  NABLA_CHECK(device.index >= 0 && device.index < kMaxDevicesPerType, DeviceError,
              "default_generator: device index ", device.index, " is out of range");
  return generator_slot(device.type, device.index);
}

void manual_seed(uint64_t seed) {
  for (int type = 0; type < kDeviceTypeCount; ++type)
    for (int index = 0; index < kMaxDevicesPerType; ++index)
      generator_slot(static_cast<DeviceType>(type), index).manual_seed(seed);
}

}  // namespace nabla
