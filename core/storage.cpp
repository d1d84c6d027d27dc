// Storage lifetime.
#include "core/storage.h"

namespace nabla {

Storage::Storage(size_t nbytes, Device device, Allocator& allocator)
    : data_(allocator.allocate(nbytes)),
      nbytes_(nbytes),
      device_(device),
      deleter_([&allocator, nbytes](void* p) { allocator.deallocate(p, nbytes); }) {}

Storage::Storage(void* data, size_t nbytes, Device device, Deleter deleter)
    : data_(data), nbytes_(nbytes), device_(device), deleter_(std::move(deleter)) {}

Storage::~Storage() {
  if (deleter_) deleter_(data_);
}

}  // namespace nabla
