// DataLoader: an epoch's batches are claimed in order by the worker threads and handed to the
// consumer in order through a bounded ring of slots.
#include "data/loader.h"

#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <numeric>
#include <optional>
#include <thread>
#include <utility>

#include "core/creation.h"
#include "core/ops.h"

namespace nabla::data {

void LoaderOptions::validate() const {
  NABLA_CHECK(batch_size >= 1, ValueError, "DataLoader: batch_size must be at least 1, got ",
              batch_size);
  NABLA_CHECK(num_workers >= 0, ValueError, "DataLoader: num_workers must be non-negative, got ",
              num_workers);
  NABLA_CHECK(prefetch_factor >= 1, ValueError,
              "DataLoader: prefetch_factor must be at least 1, got ", prefetch_factor);
}

namespace detail {

namespace {

Shape with_leading(int64_t n, const Shape& shape) {
  Shape out{n};
  out.insert(out.end(), shape.begin(), shape.end());
  return out;
}

// Copies the CPU tensor `value` into row `row` of `out`, whose rows have value's shape.
void copy_into_row(const Tensor& out, int64_t row, const Tensor& value) {
  Tensor c = value.is_contiguous() ? value : core::contiguous(value);
  const size_t bytes = static_cast<size_t>(c.numel()) * itemsize(c.dtype());
  std::memcpy(static_cast<char*>(out.raw_data()) + row * bytes, c.raw_data(), bytes);
}

}  // namespace

// One epoch: owns its copy of everything it needs, so that it can outlive its loader's state.
class EpochRun {
 public:
  EpochRun(std::shared_ptr<const Dataset> dataset, LoaderOptions options, uint64_t epoch,
           std::vector<int64_t> order, int64_t num_batches, int64_t first_batch)
      : dataset_(std::move(dataset)),
        options_(std::move(options)),
        epoch_(epoch),
        order_(std::move(order)),
        num_batches_(num_batches),
        capacity_(options_.num_workers * options_.prefetch_factor),
        slots_(static_cast<size_t>(capacity_)),
        next_claim_(first_batch),
        next_consume_(first_batch) {
    try {
      for (int64_t i = 0; i < options_.num_workers; ++i) threads_.emplace_back([this] { work(); });
    } catch (...) {
      stop();
      throw;
    }
  }

  ~EpochRun() { stop(); }
  EpochRun(const EpochRun&) = delete;
  EpochRun& operator=(const EpochRun&) = delete;

  // Stops the workers after the batches they are building and joins them. Called from the
  // consumer's thread only.
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopped_ = true;
    }
    space_.notify_all();
    for (std::thread& t : threads_)
      if (t.joinable()) t.join();
  }

  // The next batch in order, or nothing after the last; rethrows the exception that building it
  // raised.
  std::optional<Batch> next() {
    if (next_consume_ >= num_batches_) return std::nullopt;
    NABLA_CHECK(!failed_delivered_, Error,
                "DataLoader: this epoch already ended with an error; start a new one");
    const int64_t index = next_consume_;
    if (options_.num_workers == 0) {
      NABLA_CHECK(!stopped_, Error, "DataLoader: the loader was destroyed during the epoch");
      ++next_consume_;
      try {
        return build(index);
      } catch (...) {
        failed_delivered_ = true;
        throw;
      }
    }
    Slot slot;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      Slot& ready = slots_[index % capacity_];
      ready_.wait(lock, [&] { return ready.ready || stopped_; });
      NABLA_CHECK(!stopped_, Error, "DataLoader: the loader was destroyed during the epoch");
      slot = std::move(ready);
      ready = Slot{};
      ++next_consume_;
    }
    space_.notify_all();
    if (slot.error) {
      failed_delivered_ = true;
      std::rethrow_exception(slot.error);
    }
    return std::move(slot.batch);
  }

 private:
  struct Slot {
    bool ready = false;
    Batch batch;
    std::exception_ptr error;
  };

  void work() {
    for (;;) {
      int64_t index;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        space_.wait(lock, [&] {
          return stopped_ || failed_ || next_claim_ >= num_batches_ ||
                 next_claim_ < next_consume_ + capacity_;
        });
        if (stopped_ || failed_ || next_claim_ >= num_batches_) return;
        index = next_claim_++;
      }
      Slot slot;
      slot.ready = true;
      try {
        slot.batch = build(index);
      } catch (...) {
        slot.error = std::current_exception();
      }
      const bool failed = slot.error != nullptr;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        // Later batches would never be delivered: the consumer stops at this one.
        if (failed) failed_ = true;
        slots_[index % capacity_] = std::move(slot);
      }
      ready_.notify_one();
      if (failed) space_.notify_all();
    }
  }

  // Batch `index` of the epoch: what a worker does, in any thread.
  Batch build(int64_t index) const {
    const int64_t begin = index * options_.batch_size;
    const int64_t end =
        std::min<int64_t>(begin + options_.batch_size, static_cast<int64_t>(order_.size()));
    std::vector<int64_t> indices(order_.begin() + begin, order_.begin() + end);
    const int64_t b = end - begin;
    Batch batch;
    if (!options_.transform) {
      batch = dataset_->get_batch(indices);
      NABLA_CHECK(batch.inputs.defined() && batch.targets.defined() && batch.inputs.dim() >= 1 &&
                      batch.inputs.size(0) == b && batch.targets.dim() >= 1 &&
                      batch.targets.size(0) == b,
                  ShapeError, "DataLoader: Dataset::get_batch of ", b,
                  " indices returned inputs and targets that are not ", b, " examples each");
    } else {
      for (int64_t i = 0; i < b; ++i) {
        Example e = dataset_->get(indices[i]);
        RandomStream random = RandomStream::for_sample(options_.seed, epoch_, begin + i);
        Tensor x = (*options_.transform)(e.input, random);
        if (i == 0) {
          batch.inputs = empty(with_leading(b, x.shape()), {.dtype = x.dtype()});
          batch.targets = empty(with_leading(b, e.target.shape()), {.dtype = e.target.dtype()});
        }
        NABLA_CHECK(x.device().is_cpu() && e.target.device().is_cpu(), DeviceError,
                    "DataLoader: example ", indices[i], " is not on the CPU");
        const Shape& first = batch.inputs.shape();
        NABLA_CHECK(x.dtype() == batch.inputs.dtype() &&
                        Shape(first.begin() + 1, first.end()) == x.shape() &&
                        e.target.dtype() == batch.targets.dtype() &&
                        e.target.numel() * b == batch.targets.numel(),
                    ShapeError, "DataLoader: example ", indices[i], " becomes input ", x.shape(),
                    " ", x.dtype(), " and target ", e.target.shape(), " ", e.target.dtype(),
                    ", unlike the batch's first example (input ",
                    Shape(first.begin() + 1, first.end()), " ", batch.inputs.dtype(),
                    "); a batch needs examples of one shape");
        copy_into_row(batch.inputs, i, x);
        copy_into_row(batch.targets, i, e.target);
      }
    }
    batch.inputs = to_float(batch.inputs);
    return batch;
  }

  const std::shared_ptr<const Dataset> dataset_;
  const LoaderOptions options_;
  const uint64_t epoch_;
  const std::vector<int64_t> order_;
  const int64_t num_batches_;
  const int64_t capacity_;

  std::mutex mutex_;
  std::condition_variable ready_;  // the consumer waits for its next slot
  std::condition_variable space_;  // workers wait for room ahead of the consumer
  std::vector<Slot> slots_;        // batch i in slots_[i % capacity_]
  int64_t next_claim_;
  int64_t next_consume_;
  bool stopped_ = false;
  bool failed_ = false;            // a worker's batch raised; no more are claimed
  bool failed_delivered_ = false;  // the consumer has seen that exception
  std::vector<std::thread> threads_;
};

}  // namespace detail

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, LoaderOptions options)
    : dataset_(std::move(dataset)), options_(std::move(options)) {
  NABLA_CHECK(dataset_ != nullptr, ValueError, "DataLoader: the dataset is null");
  options_.validate();
}

DataLoader::~DataLoader() {
  for (const std::weak_ptr<detail::EpochRun>& weak : runs_)
    if (std::shared_ptr<detail::EpochRun> run = weak.lock()) run->stop();
}

int64_t DataLoader::size() const {
  const int64_t n = dataset_->size(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

std::vector<int64_t> DataLoader::order(uint64_t epoch) const {
  std::vector<int64_t> order(static_cast<size_t>(dataset_->size()));
  std::iota(order.begin(), order.end(), int64_t{0});
  if (options_.shuffle) {
    RandomStream random = RandomStream::for_shuffle(options_.seed, epoch);
    shuffle(order.data(), static_cast<int64_t>(order.size()), random);
  }
  return order;
}

void DataLoader::resume_at(uint64_t epoch, int64_t batch) {
  NABLA_CHECK(batch >= 0 && batch <= size(), ValueError, "DataLoader::resume_at: batch ", batch,
              " is outside the epoch's ", size(), " batches");
  epoch_ = epoch;
  first_batch_ = batch;
}

DataLoader::Iterator DataLoader::begin() {
  std::erase_if(runs_, [](const std::weak_ptr<detail::EpochRun>& run) { return run.expired(); });
  const uint64_t epoch = epoch_++;
  auto run = std::make_shared<detail::EpochRun>(dataset_, options_, epoch, order(epoch), size(),
                                                std::exchange(first_batch_, 0));
  runs_.push_back(run);
  return Iterator(std::move(run));
}

DataLoader::Iterator::Iterator(std::shared_ptr<detail::EpochRun> run) : run_(std::move(run)) {
  ++*this;
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  NABLA_CHECK(run_ != nullptr, Error, "DataLoader::Iterator: incremented past the epoch's end");
  std::optional<Batch> next = run_->next();
  if (next) {
    batch_ = std::move(*next);
  } else {
    batch_ = {};
    run_.reset();  // joins the workers, which have run out of batches
  }
  return *this;
}

}  // namespace nabla::data
