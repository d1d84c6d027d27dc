// bench_train_step: one full float32 training step (forward, cross-entropy, backward, SGD with
// momentum) of the registry's models on random batches, timed step by step after a warm-up;
// prints the median step time and images/s. bench/torch_train_step.py is the same program in
// PyTorch, and bench/compare_torch.sh runs the two interleaved and prints their ratio.
//
//   bench_train_step [--models cnn,fastnet,resnet20,mlp] [--batch 128] [--threads 2]
//                    [--warmup 3] [--steps 20] [--max-seconds 5]
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "nabla.h"

namespace {

using nabla::Tensor;

struct Config {
  std::vector<std::string> models = {"cnn", "fastnet", "resnet20", "mlp"};
  int64_t batch = 128;
  int threads = 2;
  int warmup = 3;
  int steps = 20;            // at most this many timed steps per model ...
  double max_seconds = 5.0;  // ... stopping early past this much time, after at least 5
};

// What each model trains on: Fashion-MNIST-shaped images for the MLP, CIFAR-shaped for the rest.
nabla::nn::models::ModelOptions data_shape(const std::string& model) {
  if (model == "mlp") return {.in_channels = 1, .image_size = 28};
  return {.in_channels = 3, .image_size = 32};
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

void time_model(const std::string& name, const Config& config) {
  using Clock = std::chrono::steady_clock;
  const auto shape = data_shape(name);
  auto model = nabla::nn::models::create(name, shape);
  model->train();
  auto optimizer =
      nabla::optim::create("sgd", model->named_parameters(), {{"lr", 0.01}, {"momentum", 0.9}});
  Tensor images =
      nabla::randn({config.batch, shape.in_channels, shape.image_size, shape.image_size});
  Tensor labels = nabla::randint(0, shape.num_classes, {config.batch});

  double loss_value = 0;
  auto step = [&] {
    optimizer->zero_grad();
    Tensor loss = nabla::nn::cross_entropy((*model)(images), labels);
    nabla::backward(loss);
    optimizer->step();
    loss_value = loss.item();
  };
  for (int i = 0; i < config.warmup; ++i) step();

  std::vector<double> ms;
  const auto start = Clock::now();
  while (static_cast<int>(ms.size()) < config.steps) {
    const auto t0 = Clock::now();
    step();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (ms.size() >= 5 && elapsed > config.max_seconds) break;
  }
  const double med = median(ms);
  std::printf("%-10s median %9.3f ms  min %9.3f ms  %9.1f images/s  (%zu steps, loss %.3f)\n",
              name.c_str(), med, *std::min_element(ms.begin(), ms.end()),
              double(config.batch) * 1e3 / med, ms.size(), loss_value);
  std::fflush(stdout);
}

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream ss(list);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

Config parse(int argc, char** argv) {
  Config config;
  for (int i = 1; i < argc; ++i) {
    auto value = [&](const char* flag) -> const char* {
      if (std::strcmp(argv[i], flag) != 0) return nullptr;
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_train_step: %s needs a value\n", flag);
        std::exit(2);
      }
      return argv[++i];
    };
    if (const char* v = value("--models")) {
      config.models = split(v);
    } else if (const char* v = value("--batch")) {
      config.batch = std::atoll(v);
    } else if (const char* v = value("--threads")) {
      config.threads = std::atoi(v);
    } else if (const char* v = value("--warmup")) {
      config.warmup = std::atoi(v);
    } else if (const char* v = value("--steps")) {
      config.steps = std::atoi(v);
    } else if (const char* v = value("--max-seconds")) {
      config.max_seconds = std::atof(v);
    } else {
      std::fprintf(stderr, "bench_train_step: unknown argument %s\n", argv[i]);
      std::exit(2);
    }
  }
  if (config.batch < 1 || config.threads < 1 || config.warmup < 0 || config.steps < 1) {
    std::fprintf(stderr, "bench_train_step: batch, threads and steps must be positive\n");
    std::exit(2);
  }
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  const Config config = parse(argc, argv);
  nabla::manual_seed(0);
  nabla::set_num_threads(config.threads);
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  std::printf("nabla: OPENBLAS_CORETYPE=%s (OpenBLAS kernels: %s), threads %d, batch %ld\n",
              coretype ? coretype : "unset", openblas_get_corename(), nabla::get_num_threads(),
              long(config.batch));
  for (const std::string& name : config.models) time_model(name, config);
  return 0;
}
