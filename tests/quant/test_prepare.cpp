// prepare and calibrate: which modules get observers, the ranges calibration records against the
// recorded outputs, that observers stay idle outside calibration, that batch norm and its ReLU
// are observed separately in a ResNet, saving and loading a calibrated model, and unprepare.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "autograd/ops.h"
#include "core/creation.h"
#include "core/generator.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "nn/models/cnn.h"
#include "nn/models/resnet.h"
#include "nn/safetensors.h"
#include "quant/calibrate.h"
#include "quant/load_state.h"
#include "quant/prepare.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::quant;
using testing::error_of;
using testing::values;

namespace {

// Names of the modules holding a child named `child`.
std::set<std::string> holders(nn::Module& model, const std::string& child) {
  std::set<std::string> out;
  for (auto& [name, module] : model.named_modules()) {
    for (auto& [child_name, c] : module->named_children()) {
      if (child_name == child) out.insert(name);
    }
  }
  return out;
}

// The running min and max of every output of the modules named, recorded by forward hooks.
struct Recorder {
  std::map<std::string, std::pair<double, double>> ranges;
  std::vector<std::pair<nn::Module*, int64_t>> hooks;

  Recorder(nn::Module& model, const std::set<std::string>& names) {
    for (auto& [name, module] : model.named_modules()) {
      if (!names.count(name)) continue;
      ranges[name] = {1e30, -1e30};
      std::string key = name;
      hooks.emplace_back(module, module->register_forward_hook(
                                     [this, key](nn::Module&, const Tensor&, const Tensor& out) {
                                       auto& [lo, hi] = ranges[key];
                                       lo = std::min(lo, amin(out).item<double>());
                                       hi = std::max(hi, amax(out).item<double>());
                                     }));
    }
  }
  ~Recorder() {
    for (auto& [module, handle] : hooks) module->remove_forward_hook(handle);
  }
};

nn::Module& find(nn::Module& model, const std::string& name) {
  for (auto& [n, module] : model.named_modules()) {
    if (n == name) return *module;
  }
  FAIL("no module ", name);
  return model;
}

// `count` batches of random images, then the end.
std::function<std::optional<Tensor>()> batches(int64_t count, const Shape& shape) {
  auto left = std::make_shared<int64_t>(count);
  return [left, shape]() -> std::optional<Tensor> {
    if ((*left)-- <= 0) return std::nullopt;
    return randn(shape);
  };
}

QuantConfig min_max_config() {
  QuantConfig config;
  config.activation_observer = ObserverKind::min_max;
  return config;
}

}  // namespace

TEST_CASE("prepare: an observer on every quantization point and the input, none elsewhere") {
  nn::models::SmallCNN model;
  prepare(model);
  CHECK(holders(model, kOutputObserver) ==
        std::set<std::string>{"conv1", "act1", "conv2", "act2", "conv3", "act3", "fc"});
  CHECK(holders(model, kInputObserver) == std::set<std::string>{""});
  CHECK(is_prepared(model));
  const QuantConfig& config = config_of(model);
  CHECK(config.activation_observer == ObserverKind::histogram);
  CHECK(config.activation.scheme.reduce_range);
  CHECK(config.weight.scheme.to_string() ==
        "int8 symmetric per-channel(axis=0) narrow_range [-127, 127]");
  // The observers' state is in the state dict.
  std::set<std::string> keys;
  for (auto& [name, tensor] : model.state_dict()) keys.insert(name);
  CHECK(keys.count("conv1.output_observer.min_val") == 1);
  CHECK(keys.count("conv1.output_observer.histogram") == 1);
  CHECK(keys.count("input_observer.max_val") == 1);
  CHECK(error_of([&] { prepare(model); }).starts_with("prepare: SmallCNN is already prepared"));

  // With an example input, a conv whose output only feeds its ReLU is fused away.
  nn::models::SmallCNN fused;
  prepare(fused, {}, randn({1, 3, 32, 32}));
  CHECK(holders(fused, kOutputObserver) == std::set<std::string>{"act1", "act2", "act3", "fc"});

  // unprepare removes everything: the state dict and the forward are the plain model's again.
  unprepare(model);
  CHECK_FALSE(is_prepared(model));
  CHECK(holders(model, kOutputObserver).empty());
  CHECK(model.state_dict().size() == nn::models::SmallCNN().state_dict().size());
  CHECK(error_of([&] { config_of(model); }) ==
        "config_of: SmallCNN was not prepared (call quant::prepare or quant::prepare_qat first)");
}

TEST_CASE("calibrate: the observed ranges are the min and max of the recorded outputs") {
  manual_seed(21);
  nn::models::SmallCNN model;
  model.train();
  prepare(model, min_max_config());
  // Outside calibration nothing is observed.
  model(randn({2, 3, 32, 32}));
  CHECK_FALSE(output_observer(find(model, "conv1"))->has_observed());

  const std::set<std::string> points{"conv1", "act1", "conv2", "act3", "fc"};
  Recorder recorder(model, points);
  std::vector<Tensor> inputs;
  auto source = batches(3, {4, 3, 32, 32});
  auto recording = [&]() -> std::optional<Tensor> {
    auto x = source();
    if (x) inputs.push_back(*x);
    return x;
  };
  // Asked for 5, the source ends after 3.
  CHECK(calibrate(model, recording, 5) == 3);
  CHECK(model.is_training());
  for (const std::string& name : points) {
    INFO(name);
    auto [lo, hi] = recorder.ranges[name];
    auto [min, max] = output_observer(find(model, name))->range();
    CHECK(min.item<double>() == lo);
    CHECK(max.item<double>() == hi);
    // The qparams convert reads are the observer's.
    std::optional<QParams> q = output_qparams(find(model, name));
    REQUIRE(q);
    CHECK(q->scheme.dtype == QDType::uint8);
    CHECK(values(q->scale) == values(output_observer(find(model, name))->qparams().scale));
  }
  // ReLU outputs start at 0; the input observer saw the batches themselves.
  CHECK(output_observer(find(model, "act1"))->range().first.item<double>() == 0);
  double input_min = 1e30;
  for (const Tensor& x : inputs) input_min = std::min(input_min, amin(x).item<double>());
  CHECK(input_observer(model)->range().first.item<double>() == input_min);
  REQUIRE(input_qparams(model));

  // Plain inference afterwards leaves the ranges alone, even on a wider input.
  const double conv1_max = recorder.ranges["conv1"].second;
  model.eval();
  model(mul(randn({2, 3, 32, 32}), 100.0));
  CHECK(output_observer(find(model, "conv1"))->range().second.item<double>() == conv1_max);

  nn::models::SmallCNN plain;
  CHECK(error_of([&] {
          calibrate(plain, batches(1, {1, 3, 32, 32}), 1);
        }) == "calibrate: SmallCNN was not prepared (call quant::prepare first)");
  CHECK(error_of([&] {
          calibrate(model, batches(1, {1, 3, 32, 32}), 0);
        }) == "calibrate: batches must be positive, got 0");
}

TEST_CASE("calibrate: ResNet's batch norm and ReLU are observed separately") {
  manual_seed(22);
  auto model = nn::models::resnet20();
  prepare(*model, min_max_config());
  Recorder recorder(*model, {"bn1", "act", "layer1.0.bn2", "layer1.0.act2"});
  calibrate(*model, batches(2, {2, 3, 32, 32}), 2);
  for (std::string name : {"bn1", "act", "layer1.0.bn2", "layer1.0.act2"}) {
    INFO(name);
    auto [min, max] = output_observer(find(*model, name))->range();
    CHECK(min.item<double>() == recorder.ranges[name].first);
    CHECK(max.item<double>() == recorder.ranges[name].second);
  }
  // Batch norm's output is signed; its ReLU's is not.
  CHECK(output_observer(find(*model, "bn1"))->range().first.item<double>() < 0);
  CHECK(output_observer(find(*model, "act"))->range().first.item<double>() == 0);
  CHECK(output_observer(find(*model, "layer1.0.act2"))->range().first.item<double>() == 0);
}

TEST_CASE("calibrate over a DataLoader, and a calibrated model saved and loaded") {
  manual_seed(23);
  Tensor images = rand({10, 3, 32, 32});
  auto dataset = std::make_shared<data::TensorDataset>(images, zeros({10}, {.dtype = kInt64}));
  data::DataLoader loader(dataset, {.batch_size = 4});
  nn::models::SmallCNN model;
  prepare(model);
  // Two batches of 4, each scaled by 2 by the preprocessing.
  CHECK(calibrate(model, loader, 2, [](const Tensor& x) { return mul(x, 2.0); }) == 2);
  // The histogram's span (max_val; range() may clip) is what the first eight images reach.
  Tensor first_eight = slice(images, 0, 0, 8);
  double span_max = 0;
  for (auto& [name, tensor] : model.state_dict()) {
    if (name == "input_observer.max_val") span_max = tensor.item<double>();
  }
  CHECK(span_max == doctest::Approx(2 * amax(first_eight).item<double>()).epsilon(1e-7));

  auto path = std::filesystem::temp_directory_path() / "nabla_test_calibrated.safetensors";
  nn::save_safetensors(path, model.state_dict());
  nn::models::SmallCNN restored;
  prepare(restored);
  nn::SafetensorsFile file = nn::load_safetensors(path);
  std::filesystem::remove(path);
  resize_quant_state(restored, file.tensors);
  restored.load_state_dict(file.tensors);
  for (std::string name : {"conv1", "act2", "fc"}) {
    INFO(name);
    std::optional<QParams> saved = output_qparams(find(model, name));
    std::optional<QParams> loaded = output_qparams(find(restored, name));
    REQUIRE(saved);
    REQUIRE(loaded);
    CHECK(values(loaded->scale) == values(saved->scale));
    CHECK(values(loaded->zero_point) == values(saved->zero_point));
  }
  CHECK(values(input_qparams(restored)->scale) == values(input_qparams(model)->scale));
}
