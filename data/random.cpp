// Philox streams for shuffling and augmentation.
#include "data/random.h"

#include "core/error.h"
#include "core/philox.h"

namespace nabla::data {

namespace {
// Separate key domains for shuffling and for samples, so that no sample's draws repeat an
// epoch's ordering draws.
constexpr uint64_t kShuffleDomain = 0;
constexpr uint64_t kSampleDomain = 1;

uint64_t key_for(uint64_t seed, uint64_t epoch, uint64_t domain) {
  // Hashing (epoch, domain) under the seed gives unrelated keys for neighbouring epochs.
  return philox_bits64(epoch * 2 + domain, seed);
}
}  // namespace

RandomStream RandomStream::for_sample(uint64_t seed, uint64_t epoch, uint64_t position) {
  // Each sample owns 2^32 Philox blocks of four words.
  return RandomStream(key_for(seed, epoch, kSampleDomain), position << 32);
}

RandomStream RandomStream::for_shuffle(uint64_t seed, uint64_t epoch) {
  return RandomStream(key_for(seed, epoch, kShuffleDomain), 0);
}

uint32_t RandomStream::next_u32() {
  if (used_ == 4) {
    block_ = philox4x32(counter_++, key_);
    used_ = 0;
  }
  return block_[used_++];
}

uint64_t RandomStream::next_u64() {
  uint64_t hi = next_u32();
  return (hi << 32) | next_u32();
}

double RandomStream::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

int64_t RandomStream::uniform_int(int64_t low, int64_t high) {
  NABLA_CHECK(high > low, ValueError, "RandomStream::uniform_int: empty range [", low, ", ", high,
              ")");
  // Lemire's multiply-shift on 64 bits: the bias, range / 2^64, is far below anything a
  // training run could notice.
  uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  unsigned __int128 product = static_cast<unsigned __int128>(next_u64()) * range;
  return low + static_cast<int64_t>(static_cast<uint64_t>(product >> 64));
}

}  // namespace nabla::data
