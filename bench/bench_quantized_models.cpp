// bench_quantized_models: inference of whole models in float32 and converted to int8 (prepare,
// calibrate, convert) and dynamically quantized, on random batches, the three interleaved
// repetition by repetition; prints the median times and their ratios.
//
//   bench_quantized_models [batch] [threads] [repetitions]     (defaults 64, 1, 15)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "autograd/grad_mode.h"
#include "core/creation.h"
#include "core/generator.h"
#include "core/parallel.h"
#include "nn/models/cnn.h"
#include "nn/models/mlp.h"
#include "nn/models/resnet.h"
#include "quant/calibrate.h"
#include "quant/convert.h"
#include "quant/prepare.h"
#include "quant/prepared.h"
#include "quant/quantize_dynamic.h"

namespace {

using nabla::Tensor;
namespace nn = nabla::nn;
namespace quant = nabla::quant;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double time_ms(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

void run(const std::string& name, std::shared_ptr<nn::Module> model, int64_t batch, int reps) {
  nabla::NoGradGuard no_grad;
  const Tensor x = nabla::randn({batch, 3, 32, 32});
  model->eval();
  // Dynamic first: it shares the float layers, which prepare then watches.
  std::shared_ptr<nn::Module> dynamic = quant::quantize_dynamic(*model);
  quant::prepare(*model, {}, nabla::randn({1, 3, 32, 32}));
  int left = 4;
  quant::calibrate(
      *model,
      [&]() -> std::optional<Tensor> {
        return left-- > 0 ? std::optional(nabla::randn({32, 3, 32, 32})) : std::nullopt;
      },
      4);
  std::shared_ptr<nn::Module> int8 = quant::convert(*model);
  quant::unprepare(*model);
  std::vector<double> f, q, d;
  for (int r = 0; r < reps + 2; ++r) {
    const double tf = time_ms([&] { (*model)(x); });
    const double tq = time_ms([&] { (*int8)(x); });
    const double td = time_ms([&] { (*dynamic)(x); });
    if (r < 2) continue;  // warm-up
    f.push_back(tf);
    q.push_back(tq);
    d.push_back(td);
  }
  std::printf("%-10s float %8.2f ms  int8 %8.2f ms (x%.2f)  dynamic %8.2f ms (x%.2f)\n",
              name.c_str(), median(f), median(q), median(f) / median(q), median(d),
              median(f) / median(d));
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t batch = argc > 1 ? std::atoll(argv[1]) : 64;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  const int reps = argc > 3 ? std::atoi(argv[3]) : 15;
  nabla::set_num_threads(threads);
  nabla::manual_seed(1);
  std::printf("batch %lld, %d thread(s), median of %d; ratios are float / quantized\n",
              static_cast<long long>(batch), threads, reps);
  run("cnn", std::make_shared<nn::models::SmallCNN>(), batch, reps);
  run("resnet20", nn::models::resnet20(), batch, reps);
  run("mlp", nn::models::mlp(), batch, reps);  // 3072-512-256-10
  return 0;
}
