// bench_loader: images/s of the CIFAR-10 training loader with augmentation (random crop with
// reflect padding, flip, to_float, normalize) at 1 and 2 workers, batch 128, against the raw copy
// of the same images into batches in one thread: the memory-bandwidth bound for batching them.
#include <cstring>
#include <numeric>

#include "bench/bench_common.h"
#include "data/data.h"

namespace {

using nabla::Tensor;
using namespace nabla::bench;
namespace data = nabla::data;

constexpr int64_t kBatch = 128;

void set_images(benchmark::State& state, double images) {
  state.counters["img"] = benchmark::Counter(images, benchmark::Counter::kIsIterationInvariantRate);
}

// One iteration is one epoch; the loop only touches each batch, as a training step would read it.
void loader_epoch(benchmark::State& state, const std::shared_ptr<data::TensorDataset>& train,
                  int64_t workers) {
  data::DataLoader loader(train, {.batch_size = kBatch,
                                  .shuffle = true,
                                  .num_workers = workers,
                                  .seed = 0,
                                  .transform = data::cifar10_train_transform()});
  float checksum = 0;
  for (auto _ : state) {
    for (const data::Batch& batch : loader) checksum += batch.inputs.data<float>()[0];
    benchmark::DoNotOptimize(checksum);
  }
  set_images(state, static_cast<double>(train->size()));
}

// The reference: the epoch's images, in a shuffled order, copied byte for byte into uint8 batch
// buffers, with no augmentation, no conversion and no threads.
void raw_copy_epoch(benchmark::State& state, const std::shared_ptr<data::TensorDataset>& train) {
  const int64_t n = train->size();
  const int64_t image_bytes = data::kCifarImageBytes;
  const uint8_t* images = train->inputs().data<uint8_t>();
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), int64_t{0});
  data::RandomStream random = data::RandomStream::for_shuffle(0, 0);
  data::shuffle(order.data(), n, random);
  std::vector<uint8_t> batch(static_cast<size_t>(kBatch * image_bytes));
  for (auto _ : state) {
    for (int64_t begin = 0; begin < n; begin += kBatch) {
      const int64_t end = std::min(begin + kBatch, n);
      for (int64_t i = begin; i < end; ++i)
        std::memcpy(batch.data() + (i - begin) * image_bytes, images + order[i] * image_bytes,
                    image_bytes);
      benchmark::ClobberMemory();
    }
  }
  set_images(state, static_cast<double>(n));
}

}  // namespace

int main(int argc, char** argv) {
  data::Cifar10 cifar;
  try {
    cifar = data::load_cifar10();
  } catch (const nabla::IOError& e) {
    std::printf("bench_loader: skipped, no CIFAR-10: %s\n", e.what());
    return 0;
  }
  std::printf("%s\n", cifar.summary().c_str());
  auto train = cifar.train.dataset();
  for (int64_t workers : {1, 2}) {
    add("loader/augment/workers:" + std::to_string(workers),
        [train, workers](benchmark::State& s) { loader_epoch(s, train, workers); });
  }
  add("reference/raw_copy", [train](benchmark::State& s) { raw_copy_epoch(s, train); });
  return run_main(
      argc, argv, "bench_loader", 5,
      {{"cifar10 augment, 1 worker", {"loader/augment/workers:1"}, {"reference/raw_copy"}},
       {"cifar10 augment, 2 workers", {"loader/augment/workers:2"}, {"reference/raw_copy"}}});
}
