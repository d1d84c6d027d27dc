// The allocator interface every Storage draws its bytes from, and the statistics allocators keep.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nabla {

struct AllocatorStats {
  int64_t allocated_bytes = 0;  // held by live storages
  int64_t peak_allocated_bytes = 0;
  int64_t cached_bytes = 0;  // freed by storages, kept for reuse
  int64_t cache_hits = 0;
  int64_t cache_misses = 0;
};

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t nbytes) = 0;
  virtual void deallocate(void* ptr, size_t nbytes) = 0;
  virtual AllocatorStats stats() const = 0;
  // Returns every cached block to the system.
  virtual void empty_cache() = 0;
};

}  // namespace nabla
