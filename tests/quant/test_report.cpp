// The quantization report: per-layer SQNR pairs every convolution and the classifier, sizes shrink
// about 4x, accuracy counts against labels, the markdown holds every row, and the sensitivity
// search keeps layers float until the accuracy budget holds.
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/grad_mode.h"
#include "core/creation.h"
#include "core/generator.h"
#include "core/ops.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "nn/models/cnn.h"
#include "quant/calibrate.h"
#include "quant/convert.h"
#include "quant/prepare.h"
#include "quant/quantize_dynamic.h"
#include "quant/report.h"
#include "quant_testing.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::quant;
using testing::error_of;
using namespace nabla::quant_testing;

namespace {

Tensor images() {
  static const Tensor cached = uniform_images({64, 3, 16, 16}, 31);
  return cached;
}

struct Setup {
  std::shared_ptr<nn::Module> float_model, prepared;
  std::shared_ptr<data::DataLoader> loader;
};

// A float SmallCNN, a prepared and calibrated copy of it, and a loader over the images labelled
// with the float model's own predictions (so that the float model scores 100%).
Setup setup() {
  Setup s;
  const nn::models::ModelOptions options{.image_size = 16, .width = 0.5};
  manual_seed(4);
  s.float_model = std::make_shared<nn::models::SmallCNN>(options);
  s.float_model->eval();
  s.prepared = std::make_shared<nn::models::SmallCNN>(options);
  s.prepared->load_state_dict(s.float_model->state_dict());
  s.prepared->eval();
  QuantConfig config;
  config.activation_observer = ObserverKind::min_max;
  prepare(*s.prepared, config, core::slice(images(), 0, 0, 2));
  calibrate(
      *s.prepared, [&]() -> std::optional<Tensor> { return core::slice(images(), 0, 0, 32); }, 1);
  NoGradGuard no_grad;
  const auto logits = (*s.float_model)(images());
  const auto v = logits.to_vector<float>();
  std::vector<int64_t> targets;
  for (int64_t r = 0; r < 64; ++r)
    targets.push_back(int64_t(std::max_element(v.begin() + r * 10, v.begin() + r * 10 + 10) -
                              (v.begin() + r * 10)));
  s.loader = std::make_shared<data::DataLoader>(
      std::make_shared<data::TensorDataset>(images(), from_vector(targets, {64})),
      data::LoaderOptions{.batch_size = 16});
  return s;
}

}  // namespace

TEST_CASE("report: SQNR per layer, sizes, latency and accuracy of a converted SmallCNN") {
  Setup s = setup();
  auto int8 = convert(*s.prepared);
  const QuantReport r =
      make_report(*s.float_model, *int8, *s.loader, nullptr, core::slice(images(), 0, 0, 16),
                  {.latency_batches = {1, 4}, .warmup_runs = 1, .timed_runs = 3});
  REQUIRE(r.layers.size() == 4);
  CHECK(r.layers[0].name == "conv1");
  CHECK(r.layers[0].type == "QuantizedConv2d");
  CHECK(r.layers[3].name == "fc");
  for (const LayerError& e : r.layers) {
    MESSAGE(e.name, ": ", e.sqnr_db, " dB");
    // 8-bit edges give about 6 dB per bit less what clipping and 4 layers of error cost; measured
    // 35 to 37 dB.
    CHECK(e.sqnr_db > 20);
  }
  // int8 weights and float biases and edges: a little over a quarter of the float bytes.
  const double ratio = double(r.float_bytes) / double(r.int8_bytes);
  MESSAGE("size ratio ", ratio);
  CHECK(ratio > 3.5);
  CHECK(ratio < 4.0);
  REQUIRE(r.latency.size() == 2);
  CHECK(r.latency[1].batch == 4);
  CHECK(r.latency[0].int8_ms > 0);
  CHECK(r.float_accuracy == 100.0);
  CHECK(r.eval_images == 64);
  CHECK(r.int8_accuracy > 80.0);
  const std::string md = r.to_markdown();
  CHECK(md.find("| conv1 | QuantizedConv2d |") != std::string::npos);
  CHECK(md.find("| size (bytes) | " + std::to_string(r.float_bytes)) != std::string::npos);
  CHECK(md.find("latency, batch 4") != std::string::npos);
  CHECK(md.find("| top-1 accuracy (%, 64 images) | 100.00 |") != std::string::npos);
}

TEST_CASE("report: a dynamically quantized model pairs only its int8 classifier") {
  Setup s = setup();
  auto dynamic = quantize_dynamic(*s.float_model);
  const auto errors = layer_errors(*s.float_model, *dynamic, core::slice(images(), 0, 0, 16));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].name == "fc");
  CHECK(errors[0].sqnr_db > 25);
}

TEST_CASE("report: sensitivity search keeps layers float until the budget holds") {
  Setup s = setup();
  auto accuracy = [&](nn::Module& m) { return top1_accuracy(m, *s.loader, nullptr); };
  // A budget as wide as the scale: nothing stays float.
  const Sensitivity wide = sensitivity_search(*s.prepared, 100.0, 100.0, accuracy);
  CHECK(wide.kept_float.empty());
  CHECK(wide.ranking.empty());
  CHECK(wide.accuracy == wide.int8_accuracy);
  // No budget: layers go float, most sensitive first, until int8 matches float or all are float.
  const Sensitivity none = sensitivity_search(*s.prepared, 100.0, 0.0, accuracy);
  MESSAGE("int8 ", none.int8_accuracy, "%, mixed ", none.accuracy, "% with ",
          none.kept_float.size(), " float layers");
  if (none.int8_accuracy < 100.0) {
    CHECK(none.ranking.size() == 4);
    CHECK(!none.kept_float.empty());
    CHECK(none.kept_float.count(none.ranking[0].first) == 1);
    CHECK(none.ranking[0].second >= none.ranking[3].second);
    CHECK(none.accuracy >= none.int8_accuracy);
    CHECK(accuracy(*none.model) == none.accuracy);
  }
  CHECK(error_of([&] {
          sensitivity_search(*s.prepared, 100.0, -1.0, accuracy);
        }).starts_with("sensitivity_search: the accuracy budget must not be negative"));
}
