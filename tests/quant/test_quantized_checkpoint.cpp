// save_quantized / load_quantized: a converted ResNet-20 and a dynamically quantized MLP round-trip
// bit-exact into freshly built skeletons; files that are not int8 models, or do not match, fail
// with messages naming the file and the tensors.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "autograd/grad_mode.h"
#include "core/creation.h"
#include "core/generator.h"
#include "core/ops.h"
#include "nn/checkpoint.h"
#include "nn/models/mlp.h"
#include "nn/models/resnet.h"
#include "quant/calibrate.h"
#include "quant/convert.h"
#include "quant/prepare.h"
#include "quant/quantize_dynamic.h"
#include "quant/quantized_checkpoint.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::quant;
using testing::error_of;

namespace {

std::filesystem::path temp_file(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("nabla_test_quantized_" + name);
}

// A ResNet-20 (width 0.25) with seeded weights, its batch norms warmed on noise, prepared,
// calibrated and converted.
std::shared_ptr<nn::Module> converted_resnet(uint64_t seed) {
  manual_seed(seed);
  auto model = nn::models::resnet20({.width = 0.25});
  {
    NoGradGuard no_grad;
    for (int i = 0; i < 2; ++i) (*model)(randn({8, 3, 16, 16}));
  }
  model->eval();
  prepare(*model, {}, randn({1, 3, 16, 16}));
  int64_t left = 2;
  calibrate(
      *model,
      [&]() -> std::optional<Tensor> {
        return left-- > 0 ? std::optional(randn({8, 3, 16, 16})) : std::nullopt;
      },
      2);
  auto q = convert(*model);
  return q;
}

bool bit_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.to_vector<float>() == b.to_vector<float>();
}

}  // namespace

TEST_CASE("save_quantized / load_quantized: a converted ResNet-20 round-trips bit-exact") {
  auto saved = converted_resnet(31);
  auto skeleton = converted_resnet(32);  // other weights, other calibration
  const auto path = temp_file("resnet.safetensors");
  save_quantized(*saved, path);
  manual_seed(33);
  const Tensor x = randn({4, 3, 16, 16});
  NoGradGuard no_grad;
  CHECK_FALSE(bit_equal((*skeleton)(x), (*saved)(x)));
  load_quantized(*skeleton, path);
  CHECK(bit_equal((*skeleton)(x), (*saved)(x)));
  // The file holds int8 weights and float32 scales, readable as plain safetensors.
  const nn::SafetensorsFile file = nn::load_safetensors(path);
  int64_t int8 = 0, scales = 0;
  for (const auto& [name, t] : file.tensors) {
    int8 += t.dtype() == kInt8;
    scales += name.ends_with("weight_scale") && t.dtype() == kFloat32;
  }
  CHECK(int8 == 19 + 2 + 1);  // 19 convolutions, 2 projections, fc
  CHECK(scales == int8);
  std::filesystem::remove(path);
}

TEST_CASE("save_quantized / load_quantized: a dynamically quantized MLP round-trips bit-exact") {
  manual_seed(34);
  nn::models::MLP a({12, 16, 4}), b({12, 16, 4});
  auto qa = quantize_dynamic(a), qb = quantize_dynamic(b);
  const auto path = temp_file("mlp.safetensors");
  save_quantized(*qa, path);
  load_quantized(*qb, path);
  const Tensor x = randn({5, 12});
  NoGradGuard no_grad;
  CHECK(bit_equal((*qa)(x), (*qb)(x)));
  std::filesystem::remove(path);
}

TEST_CASE("load_quantized: files that are not int8 models or do not match are errors") {
  manual_seed(35);
  nn::models::MLP a({12, 16, 4}), wider({12, 17, 4});
  auto qa = quantize_dynamic(a), qw = quantize_dynamic(wider);
  const auto path = temp_file("errors.safetensors");
  // A float checkpoint: no marker.
  nn::save(a, path);
  CHECK(error_of([&] { load_quantized(*qa, path); }) ==
        "load_quantized: " + path.string() +
            " is not an int8 model (metadata 'nabla_quantized' is missing, expected 'int8-v1')");
  // Another architecture.
  save_quantized(*qw, path);
  const std::string mismatch = error_of([&] { load_quantized(*qa, path); });
  CHECK(mismatch.starts_with("load_quantized: " + path.string() + " does not match the model: "));
  CHECK(mismatch.find("'fc1.weight' is int8 [17, 12] in the file but int8 [16, 12] in the model") !=
        std::string::npos);
  // A float tensor where the model has int8: what load_state_dict would silently convert.
  nn::StateDict state = qa->state_dict();
  for (auto& [name, t] : state)
    if (name == "fc1.weight") t = core::to(t, kFloat32);
  nn::save_safetensors(path, state, {{kQuantizedFormatKey, kQuantizedFormat}});
  CHECK(error_of([&] {
          load_quantized(*qa, path);
        }).find("'fc1.weight' is float32 [16, 12] in the file but int8 [16, 12] in the model") !=
        std::string::npos);
  // Right names, dtypes and shapes, but a weight of -128, which only the int8 module rejects:
  // the error leaves the model as it was.
  state = qa->state_dict();
  for (auto& [name, t] : state)
    if (name == "fc1.weight") t = full(t.shape(), -128, {.dtype = kInt8});
  nn::save_safetensors(path, state, {{kQuantizedFormatKey, kQuantizedFormat}});
  const Tensor x = randn({3, 12});
  const Tensor before = (*qa)(x);
  CHECK(error_of([&] { load_quantized(*qa, path); }) ==
        "PackedInt8Weight: weight value -128 at flat index 0 is outside [-127, 127] (symmetric "
        "int8)");
  CHECK(bit_equal((*qa)(x), before));
  // A truncated file.
  std::filesystem::resize_file(path, 20);
  CHECK(error_of([&] { load_quantized(*qa, path); }).find(path.string()) != std::string::npos);
  std::filesystem::remove(path);
}
