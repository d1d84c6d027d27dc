// Counter-based random streams for data loading: a sample's draws depend only on the seed, the
// epoch and the sample's position in the epoch, never on which worker thread makes them.
#pragma once

#include <array>
#include <cstdint>

namespace nabla::data {

// Draws from Philox4x32 (core/philox.h) under a key made from seed and epoch; a stream is a range
// of counters, so streams never overlap and need no state shared between threads.
class RandomStream {
 public:
  // The draws of the sample at `position` in `epoch`'s order: at most 2^34 draws of 32 bits.
  static RandomStream for_sample(uint64_t seed, uint64_t epoch, uint64_t position);
  // The draws that order the examples of `epoch`.
  static RandomStream for_shuffle(uint64_t seed, uint64_t epoch);

  uint32_t next_u32();
  uint64_t next_u64();
  // Uniform on [0, 1).
  double uniform();
  // Uniform on the integers [low, high); high > low.
  int64_t uniform_int(int64_t low, int64_t high);
  bool bernoulli(double p) { return uniform() < p; }

 private:
  RandomStream(uint64_t key, uint64_t counter) : key_(key), counter_(counter) {}

  uint64_t key_;
  uint64_t counter_;
  std::array<uint32_t, 4> block_{};
  int used_ = 4;  // words of block_ already handed out
};

// Shuffles `values` in place (Fisher-Yates) with draws from `random`.
template <class T>
void shuffle(T* values, int64_t count, RandomStream& random) {
  for (int64_t i = count - 1; i > 0; --i) {
    int64_t j = random.uniform_int(0, i + 1);
    T tmp = values[i];
    values[i] = values[j];
    values[j] = tmp;
  }
}

}  // namespace nabla::data
