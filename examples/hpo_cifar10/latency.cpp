#include "latency.h"

#include <algorithm>
#include <chrono>
#include <vector>

namespace nabla::hpo_cifar10 {

double inference_latency_ms(nn::Module& model, const Shape& input_shape, Device device,
                            int repeats) {
  constexpr int kUntimed = 3;
  const bool was_training = model.is_training();
  model.eval();
  NoGradGuard no_grad;
  const Tensor input = zeros(input_shape, {.device = device});
  std::vector<double> times;
  for (int i = 0; i < kUntimed + repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    // The result's first element is read back so that an asynchronous device has finished.
    (void)contiguous(to(model(input), Device::cpu())).raw_data();
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (i >= kUntimed) times.push_back(ms);
  }
  if (was_training) model.train();
  // Other processes only ever add time to a pass, so the fastest pass estimates the network's own
  // cost best; a median keeps their share whenever the machine is busy for most of the passes.
  return *std::min_element(times.begin(), times.end());
}

}  // namespace nabla::hpo_cifar10
