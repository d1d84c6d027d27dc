// Storage: one block of device memory, shared by every tensor that views it, with the version
// counter that autograd uses to detect in-place changes to saved tensors.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "core/allocator.h"
#include "core/device.h"

namespace nabla {

class Storage {
 public:
  using Deleter = std::function<void(void*)>;

  Storage(size_t nbytes, Device device, Allocator& allocator);
  // Adopts memory allocated elsewhere; `deleter` runs when the last tensor lets go (it may do
  // nothing).
  Storage(void* data, size_t nbytes, Device device, Deleter deleter);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

  // Bumped by every in-place write through any view of this storage.
  uint64_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

 private:
  void* data_;
  size_t nbytes_;
  Device device_;
  Deleter deleter_;
  std::atomic<uint64_t> version_{0};
};

}  // namespace nabla
