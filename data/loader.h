// DataLoader: batches of a dataset in a seeded order, built by background worker threads while
// the model trains, identical whatever the number of workers.
#pragma once

#include <cstdint>
#include <iterator>
#include <memory>
#include <vector>

#include "data/dataset.h"
#include "data/transforms.h"

namespace nabla::data {

struct LoaderOptions {
  int64_t batch_size = 1;
  // A new order each epoch, derived from seed and epoch.
  bool shuffle = false;
  // Leaves out a last batch smaller than batch_size.
  bool drop_last = false;
  // Threads that build batches ahead of the consumer; 0 builds each batch in the consumer's
  // thread when the loop asks for it. They share the cores with the training thread's OpenMP
  // team (nabla::set_num_threads).
  int64_t num_workers = 0;
  // Batches each worker may hold ready ahead of the consumer (the queue's bound is
  // num_workers * prefetch_factor).
  int64_t prefetch_factor = 2;
  // Seeds the shuffle and every sample's RandomStream, with the epoch.
  uint64_t seed = 0;
  // Applied to each example's input inside the workers; null for none.
  TransformPtr transform = nullptr;

  void validate() const;
};

namespace detail {
class EpochRun;
}

// Iterating a loader runs one epoch: for (const Batch& batch : loader) { ... }. Each batch holds
// inputs [B, ...] float32 (uint8 inputs scaled to [0, 1] as to_float does, other dtypes cast)
// and targets [B, ...] as the dataset gives them (int64 class indices for the readers here).
// Sample i of batch b draws its augmentation from RandomStream::for_sample(seed, epoch,
// b * batch_size + i), so batches depend only on seed and epoch. A worker's exception reaches
// the loop at the batch that raised it, after every batch before it.
class DataLoader {
 public:
  class Iterator;

  DataLoader(std::shared_ptr<const Dataset> dataset, LoaderOptions options = {});
  // Stops and joins the workers of any epoch still running.
  ~DataLoader();
  DataLoader(DataLoader&&) noexcept = default;
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // Batches per epoch.
  int64_t size() const;
  const LoaderOptions& options() const { return options_; }
  const std::shared_ptr<const Dataset>& dataset() const { return dataset_; }

  // The epoch the next begin() runs; each begin() runs one and moves on to the next. Set it to
  // resume a run.
  uint64_t epoch() const { return epoch_; }
  void set_epoch(uint64_t epoch) {
    epoch_ = epoch;
    first_batch_ = 0;
  }
  // The next begin() runs `epoch` from its batch `batch` on, the batches a run that stopped after
  // `batch` batches of that epoch never saw (the same batches, augmentation included).
  void resume_at(uint64_t epoch, int64_t batch);
  // The dataset indices of `epoch` in the order its batches take them.
  std::vector<int64_t> order(uint64_t epoch) const;

  // Starts the next epoch; the loop that holds the iterator ends it (leaving early stops the
  // workers).
  Iterator begin();
  std::default_sentinel_t end() const { return {}; }

 private:
  std::shared_ptr<const Dataset> dataset_;
  LoaderOptions options_;
  uint64_t epoch_ = 0;
  int64_t first_batch_ = 0;  // where the next begin() starts; 0 but after resume_at
  std::vector<std::weak_ptr<detail::EpochRun>> runs_;
};

class DataLoader::Iterator {
 public:
  using value_type = Batch;
  using difference_type = std::ptrdiff_t;

  Iterator() = default;
  const Batch& operator*() const { return batch_; }
  const Batch* operator->() const { return &batch_; }
  Iterator& operator++();
  void operator++(int) { ++*this; }
  bool operator==(std::default_sentinel_t) const { return run_ == nullptr; }

 private:
  friend class DataLoader;
  explicit Iterator(std::shared_ptr<detail::EpochRun> run);

  std::shared_ptr<detail::EpochRun> run_;  // null once the epoch is over
  Batch batch_;
};

}  // namespace nabla::data
