// Checkpoints: a ResNet saved and loaded bit for bit, training checkpoints with groups and a JSON
// document, and errors that name the file.
#include <doctest/doctest.h>

#include "autograd/grad_mode.h"
#include "core/creation.h"
#include "core/generator.h"
#include "core/ops.h"
#include "nn/checkpoint.h"
#include "nn/linear.h"
#include "nn/models/resnet.h"
#include "scratch_dir.h"

using namespace nabla;
using namespace nabla::nn;
using nabla::testing::ScratchDir;

namespace {

std::vector<uint8_t> raw_bytes(const Tensor& t) {
  Tensor c = core::contiguous(t);
  const auto* p = static_cast<const uint8_t*>(c.raw_data());
  return {p, p + c.numel() * static_cast<int64_t>(itemsize(c.dtype()))};
}

// Same names in the same order, same dtypes, shapes and bytes.
bool bit_equal(const NamedTensors& a, const NamedTensors& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const Tensor &x = a[i].second, &y = b[i].second;
    if (a[i].first != b[i].first || x.dtype() != y.dtype() || x.shape() != y.shape() ||
        raw_bytes(x) != raw_bytes(y))
      return false;
  }
  return true;
}

std::map<std::string, Tensor> by_name(const NamedTensors& tensors) {
  return {tensors.begin(), tensors.end()};
}

// A ResNet-20 whose BatchNorm statistics have moved away from their initial values.
std::shared_ptr<models::ResNet> trained_resnet(uint64_t seed) {
  manual_seed(seed);
  auto model = models::resnet20();
  NoGradGuard no_grad;
  (*model)(randn({2, 3, 32, 32}));
  return model;
}

}  // namespace

TEST_CASE("checkpoint: a ResNet-20 round-trips bit for bit") {
  ScratchDir dir;
  auto saved = trained_resnet(1);
  save(*saved, dir / "resnet20.safetensors", {{"arch", "resnet20"}});

  auto fresh = trained_resnet(2);
  REQUIRE_FALSE(bit_equal(fresh->state_dict(), saved->state_dict()));
  LoadReport report = load(*fresh, dir / "resnet20.safetensors");
  CHECK(report.ok());
  CHECK(bit_equal(fresh->state_dict(), saved->state_dict()));
  // The loaded values were copied into the module's own tensors: they are not shared.
  CHECK_FALSE(fresh->state_dict()[0].second.is_same(saved->state_dict()[0].second));

  // Plain PyTorch names, BatchNorm buffers included, and the metadata as given.
  SafetensorsFile file = load_safetensors(dir / "resnet20.safetensors");
  auto tensors = by_name(file.tensors);
  CHECK(tensors.size() == saved->state_dict().size());
  CHECK(tensors.count("layer1.0.conv1.weight"));
  CHECK(tensors.count("layer3.2.bn2.running_var"));
  CHECK(tensors.at("bn1.num_batches_tracked").dtype() == kInt64);
  CHECK(tensors.at("bn1.num_batches_tracked").item() == 1);
  CHECK(file.metadata == SafetensorsMetadata{{"arch", "resnet20"}});

  // Same parameters and statistics, same function.
  saved->eval();
  fresh->eval();
  NoGradGuard no_grad;
  Tensor x = randn({1, 3, 32, 32});
  CHECK(raw_bytes((*fresh)(x)) == raw_bytes((*saved)(x)));
}

TEST_CASE("checkpoint: load reports mismatches and names the file") {
  ScratchDir dir;
  const auto path = dir / "linear.safetensors";
  Linear small(3, 2);
  save(small, path);

  Linear other(3, 4);
  CHECK_THROWS_WITH_AS(load(other, path), doctest::Contains("linear.safetensors"), ValueError);
  CHECK_THROWS_WITH_AS(load(other, path), doctest::Contains("weight"), ValueError);

  Linear no_bias(3, 2, /*bias=*/false);
  LoadReport report = load(no_bias, path, /*strict=*/false);
  CHECK(report.unexpected == std::vector<std::string>{"bias"});
  CHECK(raw_bytes(no_bias.weight()) == raw_bytes(small.weight()));

  CHECK_THROWS_WITH_AS(load(small, dir / "absent.safetensors"),
                       doctest::Contains("absent.safetensors"), IOError);
  CHECK_THROWS_WITH_AS(save(small, path, {{"nabla", "x"}}), doctest::Contains("reserved"),
                       ValueError);
}

TEST_CASE("checkpoint: a training checkpoint keeps its groups and JSON document") {
  ScratchDir dir;
  const auto path = dir / "train.safetensors";
  manual_seed(5);
  Linear model(4, 3);
  Checkpoint saved;
  saved.model = model.state_dict();
  saved.groups["optim"] = {{"weight.exp_avg", randn({3, 4})},
                           {"weight.step", scalar_tensor(10, {.dtype = kInt64})}};
  saved.groups["ema"] = {};
  saved.state = {
      {"step", 1000}, {"epoch", 7}, {"lr", 0.0125}, {"rng", {{"seed", 5}}}, {"optimizer", "sgd"}};
  save_checkpoint(path, saved);

  // In the file: model tensors under their plain names, group tensors prefixed.
  SafetensorsFile file = load_safetensors(path);
  auto stored = by_name(file.tensors);
  CHECK(stored.size() == 4);
  CHECK(stored.count("weight"));
  CHECK(stored.count("bias"));
  CHECK(stored.count("optim.weight.exp_avg"));
  CHECK(stored.count("optim.weight.step"));
  CHECK(file.metadata.count(kCheckpointMetadataKey));

  Checkpoint loaded = load_checkpoint(path);
  CHECK(bit_equal(loaded.model, saved.model));
  REQUIRE(loaded.groups.size() == 2);
  CHECK(loaded.groups["ema"].empty());
  // Within a group, larger elements come first in the file.
  CHECK(bit_equal(loaded.groups["optim"], {saved.groups["optim"][1], saved.groups["optim"][0]}));
  CHECK(loaded.state == saved.state);
  CHECK(loaded.state["lr"].get<double>() == 0.0125);

  // The model part loads into a module directly.
  Linear fresh(4, 3);
  CHECK(load(fresh, path).ok());
  CHECK(raw_bytes(fresh.weight()) == raw_bytes(model.weight()));
}

TEST_CASE("checkpoint: a plain safetensors file is a checkpoint with only a model") {
  ScratchDir dir;
  const auto path = dir / "plain.safetensors";
  save_safetensors(path, {{"optim.x", ones({2})}, {"w", zeros({1})}}, {{"format", "pt"}});
  Checkpoint checkpoint = load_checkpoint(path);
  CHECK(checkpoint.model.size() == 2);  // no groups declared: "optim.x" is a model tensor
  CHECK(checkpoint.groups.empty());
  CHECK(checkpoint.state.is_null());
}

TEST_CASE("checkpoint: invalid groups and documents are errors") {
  ScratchDir dir;
  const auto path = dir / "c.safetensors";
  Checkpoint bad;
  bad.model = {{"layer1.weight", zeros({1})}};
  bad.groups["layer1"] = {{"x", zeros({1})}};
  CHECK_THROWS_WITH_AS(save_checkpoint(path, bad),
                       doctest::Contains("also the first part of a model tensor's name"),
                       ValueError);
  bad.groups = {{"a.b", {}}};
  CHECK_THROWS_WITH_AS(save_checkpoint(path, bad), doctest::Contains("without '.'"), ValueError);
  bad.groups = {{"", {}}};
  CHECK_THROWS_AS(save_checkpoint(path, bad), ValueError);
  bad.groups = {};
  bad.state = {{"text", "\xff"}};
  CHECK_THROWS_WITH_AS(save_checkpoint(path, bad), doctest::Contains("state document"), ValueError);
  CHECK_FALSE(std::filesystem::exists(path));

  auto rejects = [&](const std::string& document, const std::string& problem) {
    CAPTURE(document);
    save_safetensors(path, {{"w", zeros({1})}}, {{kCheckpointMetadataKey, document}});
    CHECK_THROWS_WITH_AS(load_checkpoint(path), doctest::Contains(problem.c_str()), IOError);
    CHECK_THROWS_WITH_AS(load_checkpoint(path), doctest::Contains("c.safetensors"), IOError);
  };
  rejects("{", "is not valid JSON");
  rejects("[]", "is not an object with version, groups and state");
  rejects(R"({"version": 2, "groups": [], "state": null})", "has version 2, expected 1");
  rejects(R"({"version": 1, "groups": {}, "state": null})", "groups is not a list");
  rejects(R"({"version": 1, "groups": [3], "state": null})", "group 3 is not a string");
  rejects(R"({"version": 1, "groups": ["a.b"], "state": null})", "must be non-empty");
}
