// DataLoader: every index once per epoch, seeded orders, drop_last, identical batches and
// augmentation for any number of workers, early exits, destruction and worker exceptions.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <numeric>

#include "core/creation.h"
#include "core/ops.h"
#include "data/loader.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::data;

namespace {

// inputs [n, 1] float32 = i, targets [n] = i.
std::shared_ptr<TensorDataset> counting(int64_t n) {
  return std::make_shared<TensorDataset>(core::view(arange(n), {n, 1}),
                                         arange(n, {.dtype = kInt64}));
}

// uint8 images [n, 3, 8, 8] of distinct pixel patterns, targets i % 10.
std::shared_ptr<TensorDataset> images(int64_t n) {
  Tensor x = empty({n, 3, 8, 8}, {.dtype = kUInt8});
  uint8_t* p = x.data<uint8_t>();
  for (int64_t i = 0; i < x.numel(); ++i) p[i] = static_cast<uint8_t>((i * 37 + i / 192) % 251);
  std::vector<int64_t> labels(n);
  for (int64_t i = 0; i < n; ++i) labels[i] = i % 10;
  return std::make_shared<TensorDataset>(x, from_vector(labels));
}

// Counts get() calls, and throws at one index.
class ProbeDataset : public Dataset {
 public:
  ProbeDataset(int64_t n, int64_t throw_at) : n_(n), throw_at_(throw_at) {}
  int64_t size() const override { return n_; }
  Example get(int64_t index) const override {
    ++calls;
    NABLA_CHECK(index != throw_at_, IOError, "ProbeDataset: cannot read example ", index);
    return {full({2}, static_cast<double>(index)),
            scalar_tensor(static_cast<double>(index), {.dtype = kInt64})};
  }
  mutable std::atomic<int64_t> calls{0};

 private:
  int64_t n_, throw_at_;
};

// Every target of one epoch, in order.
std::vector<int64_t> epoch_targets(DataLoader& loader) {
  std::vector<int64_t> out;
  for (const Batch& batch : loader) {
    std::vector<int64_t> t = batch.targets.to_vector<int64_t>();
    out.insert(out.end(), t.begin(), t.end());
  }
  return out;
}

std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

std::vector<int64_t> sorted(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

TEST_CASE("without shuffling, batches follow the dataset, inputs float32, targets int64") {
  DataLoader loader(counting(10), {.batch_size = 4});
  CHECK(loader.size() == 3);
  std::vector<int64_t> sizes;
  for (const Batch& b : loader) {
    sizes.push_back(b.size());
    CHECK(b.inputs.dtype() == kFloat32);
    CHECK(b.targets.dtype() == kInt64);
    CHECK(b.inputs.shape() == Shape{b.size(), 1});
  }
  CHECK(sizes == std::vector<int64_t>{4, 4, 2});
  CHECK(epoch_targets(loader) == iota(10));
}

TEST_CASE("shuffling: each index once per epoch, a new order each epoch, the same for a seed") {
  for (int64_t workers : {0, 3}) {
    CAPTURE(workers);
    LoaderOptions options{.batch_size = 7, .shuffle = true, .num_workers = workers, .seed = 42};
    DataLoader loader(counting(100), options);
    std::vector<int64_t> e0 = epoch_targets(loader), e1 = epoch_targets(loader);
    CHECK(sorted(e0) == iota(100));
    CHECK(sorted(e1) == iota(100));
    CHECK(e0 != iota(100));
    CHECK(e0 != e1);
    CHECK(e0 == loader.order(0));
    DataLoader again(counting(100), options);
    CHECK(epoch_targets(again) == e0);
    again.set_epoch(5);
    loader.set_epoch(5);
    CHECK(epoch_targets(again) == epoch_targets(loader));
    CHECK(loader.epoch() == 6);
    options.seed = 43;
    DataLoader other(counting(100), options);
    CHECK(epoch_targets(other) != e0);
  }
}

TEST_CASE("drop_last leaves out the short batch") {
  DataLoader loader(counting(10), {.batch_size = 3, .shuffle = true, .drop_last = true});
  CHECK(loader.size() == 3);
  int64_t batches = 0;
  std::vector<int64_t> seen;
  for (const Batch& b : loader) {
    CHECK(b.size() == 3);
    ++batches;
    std::vector<int64_t> t = b.targets.to_vector<int64_t>();
    seen.insert(seen.end(), t.begin(), t.end());
  }
  CHECK(batches == 3);
  std::vector<int64_t> unique = sorted(seen);
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  CHECK(unique.size() == 9);
  DataLoader keep(counting(10), {.batch_size = 3, .drop_last = false});
  CHECK(keep.size() == 4);
}

TEST_CASE("batches and augmentation are the same for 0, 1, 2 and 5 workers") {
  auto ds = images(45);
  TransformPtr augment =
      compose({std::make_shared<RandomCrop>(8, 2, Padding::reflect),
               std::make_shared<RandomHorizontalFlip>(), std::make_shared<Cutout>(3, 0.5)});
  std::vector<std::vector<float>> reference;
  for (int64_t workers : {0, 1, 2, 5}) {
    CAPTURE(workers);
    DataLoader loader(ds, {.batch_size = 8,
                           .shuffle = true,
                           .num_workers = workers,
                           .prefetch_factor = 1,
                           .seed = 9,
                           .transform = augment});
    std::vector<std::vector<float>> batches;
    for (int epoch = 0; epoch < 2; ++epoch)
      for (const Batch& b : loader) {
        CHECK(b.inputs.shape() == Shape{b.size(), 3, 8, 8});
        batches.push_back(b.inputs.to_vector<float>());
        std::vector<int64_t> t = b.targets.to_vector<int64_t>();
        batches.push_back(std::vector<float>(t.begin(), t.end()));
      }
    if (reference.empty())
      reference = batches;
    else
      CHECK(batches == reference);
  }
  REQUIRE(reference.size() == 2 * 2 * 6);
  // The augmentation did something: epoch 0 and epoch 1 differ, and so do the inputs of a
  // sample and its plain copy.
  CHECK(reference[0] != reference[12]);
  DataLoader plain(ds, {.batch_size = 8, .shuffle = true, .seed = 9});
  CHECK((*plain.begin()).inputs.to_vector<float>() != reference[0]);
}

TEST_CASE("resume_at gives the rest of an epoch as an uninterrupted run saw it") {
  auto ds = images(45);
  TransformPtr augment = compose({std::make_shared<RandomCrop>(8, 2, Padding::reflect),
                                  std::make_shared<RandomHorizontalFlip>()});
  auto all_inputs = [](DataLoader& loader) {
    std::vector<std::vector<float>> out;
    for (const Batch& b : loader) out.push_back(b.inputs.to_vector<float>());
    return out;
  };
  for (int64_t workers : {0, 2}) {
    CAPTURE(workers);
    LoaderOptions options{
        .batch_size = 8, .shuffle = true, .num_workers = workers, .seed = 3, .transform = augment};
    DataLoader whole(ds, options);
    whole.set_epoch(4);
    std::vector<std::vector<float>> uninterrupted = all_inputs(whole);
    REQUIRE(uninterrupted.size() == 6);
    DataLoader resumed(ds, options);
    resumed.resume_at(4, 2);
    CHECK(all_inputs(resumed) ==
          std::vector<std::vector<float>>(uninterrupted.begin() + 2, uninterrupted.end()));
    // The epoch after starts from its first batch again.
    CHECK(resumed.epoch() == 5);
    CHECK(all_inputs(resumed) == all_inputs(whole));
    resumed.resume_at(6, 6);
    CHECK(all_inputs(resumed).empty());
  }
  DataLoader loader(ds, {.batch_size = 8});
  CHECK_THROWS_AS(loader.resume_at(0, 7), ValueError);
}

TEST_CASE("uint8 inputs without a transform arrive as floats in [0, 1]") {
  auto ds = images(4);
  DataLoader loader(ds, {.batch_size = 4, .num_workers = 1});
  DataLoader::Iterator it = loader.begin();
  const Batch& b = *it;
  std::vector<float> got = b.inputs.to_vector<float>();
  std::vector<uint8_t> raw = ds->inputs().to_vector<uint8_t>();
  REQUIRE(got.size() == raw.size());
  CHECK(got[5] == doctest::Approx(raw[5] / 255.0));
  CHECK(got[200] == doctest::Approx(raw[200] / 255.0));
}

TEST_CASE("leaving the loop early stops the workers within the prefetch bound") {
  auto probe = std::make_shared<ProbeDataset>(10000, -1);
  DataLoader loader(probe, {.batch_size = 10, .num_workers = 2, .prefetch_factor = 2});
  int64_t consumed = 0;
  for (const Batch& b : loader) {
    CHECK(b.size() == 10);
    if (++consumed == 3) break;
  }
  // The iterator's end joined the workers: no batch is built after the loop, and at most the
  // queue's 4 slots plus one batch per worker were built beyond the 3 consumed.
  const int64_t calls = probe->calls.load();
  CHECK(calls >= 30);
  CHECK(calls <= (3 + 4 + 2) * 10);
  CHECK(probe->calls.load() == calls);
  // The next epoch starts afresh.
  CHECK((*loader.begin()).targets.to_vector<int64_t>()[0] == 0);
}

TEST_CASE("destroying the loader mid-epoch stops its workers, the iterator then reports it") {
  auto probe = std::make_shared<ProbeDataset>(10000, -1);
  auto loader = std::make_unique<DataLoader>(
      probe, LoaderOptions{.batch_size = 10, .num_workers = 3, .prefetch_factor = 2});
  DataLoader::Iterator it = loader->begin();
  CHECK(it->size() == 10);
  loader.reset();
  const int64_t calls = probe->calls.load();
  CHECK(calls <= (1 + 6 + 3) * 10);
  CHECK_THROWS_WITH_AS(++it, doctest::Contains("destroyed"), Error);
  CHECK(probe->calls.load() == calls);
}

TEST_CASE("an exception in a worker reaches the loop at its batch, after the batches before it") {
  for (int64_t workers : {0, 1, 4}) {
    CAPTURE(workers);
    auto probe = std::make_shared<ProbeDataset>(100, 57);
    DataLoader loader(probe, {.batch_size = 10, .num_workers = workers});
    int64_t delivered = 0;
    auto run = [&] {
      for (const Batch& b : loader) delivered += b.size();
    };
    CHECK_THROWS_WITH_AS(run(), doctest::Contains("cannot read example 57"), IOError);
    CHECK(delivered == 50);
    // Another epoch runs into the same example again, and nothing hangs.
    delivered = 0;
    CHECK_THROWS_AS(run(), IOError);
    CHECK(delivered == 50);
  }
}

TEST_CASE("a transform that changes an example's shape is a clear error") {
  class Shrink : public Transform {
   public:
    Tensor operator()(const Tensor& x, RandomStream& random) const override {
      int64_t size = random.uniform_int(0, 2) == 0 ? 4 : 3;
      return crop(x, 0, 0, size, size);
    }
  };
  DataLoader loader(images(32), {.batch_size = 32, .transform = std::make_shared<Shrink>()});
  CHECK_THROWS_WITH_AS(*loader.begin(), doctest::Contains("a batch needs examples of one shape"),
                       ShapeError);
}

TEST_CASE("options are validated") {
  CHECK_THROWS_AS(DataLoader(counting(3), {.batch_size = 0}), ValueError);
  CHECK_THROWS_AS(DataLoader(counting(3), {.num_workers = -1}), ValueError);
  CHECK_THROWS_AS(DataLoader(nullptr), ValueError);
  DataLoader empty_loader(counting(0), {.batch_size = 4, .num_workers = 2});
  CHECK(empty_loader.size() == 0);
  CHECK(epoch_targets(empty_loader).empty());
}

TEST_CASE("a loader moves with its epoch count") {
  DataLoader a(counting(6), {.batch_size = 4, .shuffle = true, .seed = 1});
  CHECK(epoch_targets(a) == a.order(0));
  DataLoader b(std::move(a));
  CHECK(b.epoch() == 1);
  CHECK(b.size() == 2);
  CHECK(epoch_targets(b) == b.order(1));
}
