// The CPU caching allocator: large blocks are reused, small ones go straight to the system.
#include <doctest/doctest.h>

#include "core/backend.h"
#include "core/cpu/caching_allocator.h"
#include "nabla.h"

using namespace nabla;

TEST_CASE("size classes round large requests up by at most a quarter") {
  CHECK(CachingHostAllocator::size_class(1000) == 1000);
  CHECK(CachingHostAllocator::size_class(size_t{1} << 20) == size_t{1} << 20);
  size_t odd = (size_t{1} << 20) + 1;
  CHECK(CachingHostAllocator::size_class(odd) == (size_t{1} << 20) + (size_t{1} << 18));
}

TEST_CASE("a freed large block serves the next request of its class") {
  CachingHostAllocator allocator;
  void* a = allocator.allocate(1 << 20);
  allocator.deallocate(a, 1 << 20);
  CHECK(allocator.stats().cached_bytes == 1 << 20);
  void* b = allocator.allocate((1 << 20) - 100);  // same class
  CHECK(b == a);
  CHECK(allocator.stats().cache_hits == 1);
  CHECK(allocator.stats().allocated_bytes == 1 << 20);
  allocator.deallocate(b, (1 << 20) - 100);
  allocator.empty_cache();
  CHECK(allocator.stats().cached_bytes == 0);
}

TEST_CASE("tensors draw from the backend's caching allocator") {
  Allocator& allocator = backend(Device::cpu()).allocator();
  { Tensor t = empty({1 << 18}); }
  int64_t hits = allocator.stats().cache_hits;
  { Tensor t = empty({1 << 18}); }
  CHECK(allocator.stats().cache_hits == hits + 1);
}
