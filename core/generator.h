// Seeded random number generation: one Philox generator per device. A draw reserves a range of
// Philox counters, so the numbers depend only on the seed and the order of draws, not on threads.
#pragma once

#include <cstdint>
#include <mutex>

#include "core/device.h"
#include "core/error.h"

namespace nabla {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : seed_(seed) {}

  void manual_seed(uint64_t seed);
  uint64_t seed() const { return seed_; }
  // Reserves `count` counters and returns the first; thread-safe.
  uint64_t advance(uint64_t count);

  // The full state, for checkpoints: restoring it replays the same numbers.
  struct State {
    uint64_t seed = 0;
    uint64_t offset = 0;
  };
  State state() const;
  void set_state(State state);

 private:
  mutable std::mutex mutex_;
  uint64_t seed_;
  uint64_t offset_ = 0;
};

Generator& default_generator(Device device);
// Seeds every device's default generator: the same seed gives the same numbers.
void manual_seed(uint64_t seed);

}  // namespace nabla
