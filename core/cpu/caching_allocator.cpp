// Size-class caching of large host blocks.
#include "core/cpu/caching_allocator.h"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <new>

#include "core/error.h"

namespace nabla {

namespace {
// 64 bytes: a cache line, and an AVX-512 register.
constexpr size_t kAlignment = 64;

void* system_allocate(size_t nbytes) {
  size_t rounded = (std::max<size_t>(nbytes, 1) + kAlignment - 1) / kAlignment * kAlignment;
  void* p = std::aligned_alloc(kAlignment, rounded);
  NABLA_CHECK(p != nullptr, Error, "CPU allocator: out of memory allocating ", nbytes, " bytes");
  return p;
}
}  // namespace

size_t CachingHostAllocator::size_class(size_t nbytes) {
  if (nbytes < kMinCachedBytes) return nbytes;
  size_t quarter = std::bit_floor(nbytes) / 4;
  return (nbytes + quarter - 1) / quarter * quarter;
}

void* CachingHostAllocator::allocate(size_t nbytes) {
  size_t cls = size_class(nbytes);
  {
    std::lock_guard lock(mutex_);
    stats_.allocated_bytes += static_cast<int64_t>(cls);
    stats_.peak_allocated_bytes = std::max(stats_.peak_allocated_bytes, stats_.allocated_bytes);
    if (cls >= kMinCachedBytes) {
      auto it = free_blocks_.find(cls);
      if (it != free_blocks_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        stats_.cached_bytes -= static_cast<int64_t>(cls);
        ++stats_.cache_hits;
        return p;
      }
      ++stats_.cache_misses;
    }
  }
  return system_allocate(cls);
}

void CachingHostAllocator::deallocate(void* ptr, size_t nbytes) {
  size_t cls = size_class(nbytes);
  {
    std::lock_guard lock(mutex_);
    stats_.allocated_bytes -= static_cast<int64_t>(cls);
    if (cls >= kMinCachedBytes && stats_.cached_bytes + cls <= cache_limit_) {
      free_blocks_[cls].push_back(ptr);
      stats_.cached_bytes += static_cast<int64_t>(cls);
      return;
    }
  }
  std::free(ptr);
}

AllocatorStats CachingHostAllocator::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void CachingHostAllocator::empty_cache() {
  std::lock_guard lock(mutex_);
  for (auto& [cls, blocks] : free_blocks_)
    for (void* p : blocks) std::free(p);
  free_blocks_.clear();
  stats_.cached_bytes = 0;
}

}  // namespace nabla
