// The random stream a sampler draws from: a splitmix64-seeded xoshiro256**, keyed by a study's
// seed, a trial number and a stream name, so that the same study draws the same numbers whatever
// the thread count or the order in which parameters are suggested.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <string_view>

namespace nabla::hpo {

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& word : state_) word = splitmix64(seed);
  }

  // Note [sampler streams]: the draws of one trial's parameter depend only on these keys, never
  // on which trials ran before on this thread.
  static Rng keyed(uint64_t seed, int64_t trial_number, std::string_view stream,
                   int64_t attempt = 0) {
    uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a over the stream name
    for (char c : stream) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    uint64_t mixed = seed;
    mixed = splitmix64(mixed) ^ static_cast<uint64_t>(trial_number);
    mixed = splitmix64(mixed) ^ h;
    mixed = splitmix64(mixed) ^ static_cast<uint64_t>(attempt);
    return Rng(mixed);
  }

  uint64_t next() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // In [0, 1), from 53 bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // In [0, n), without modulo bias.
  int64_t integer(int64_t n) {
    const uint64_t bound = static_cast<uint64_t>(n);
    const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t x = next();
    while (x >= limit) x = next();
    return static_cast<int64_t>(x % bound);
  }
  // Standard normal by Box-Muller (portable, unlike std::normal_distribution).
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]: log is finite
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }

 private:
  static uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  uint64_t state_[4];
};

}  // namespace nabla::hpo
