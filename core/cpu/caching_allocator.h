// The CPU's caching allocator. Fresh pages cost more than the math on a large tensor (a new 16 MB
// block is page-faulted in at ~2 ms, a reused one costs ~0.2 ms), so blocks of 64 KiB and up go
// back to a size-class cache when freed and serve the next request of their class.
#pragma once

#include <map>
#include <mutex>
#include <vector>

#include "core/allocator.h"

namespace nabla {

class CachingHostAllocator final : public Allocator {
 public:
  // Cached bytes beyond this limit are returned to the system at once.
  explicit CachingHostAllocator(size_t cache_limit_bytes = size_t{2} << 30)
      : cache_limit_(cache_limit_bytes) {}
  ~CachingHostAllocator() override { empty_cache(); }

  void* allocate(size_t nbytes) override;
  void deallocate(void* ptr, size_t nbytes) override;
  AllocatorStats stats() const override;
  void empty_cache() override;

  // Blocks this size and up are cached; rounds them to one of four classes per power of two.
  static constexpr size_t kMinCachedBytes = size_t{64} << 10;
  static size_t size_class(size_t nbytes);

 private:
  mutable std::mutex mutex_;
  std::map<size_t, std::vector<void*>> free_blocks_;  // by size class
  size_t cache_limit_;
  AllocatorStats stats_;
};

}  // namespace nabla
