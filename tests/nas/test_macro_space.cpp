// The macro search space: every architecture any sampler draws from it builds, trains a step
// (forward and backward, right shapes, a gradient for every parameter) and reads back from its
// trial's parameters.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "core/creation.h"
#include "core/generator.h"
#include "hpo/hpo.h"
#include "hpo/nas/macro_space.h"
#include "nn/loss.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::hpo;
using namespace nabla::hpo::nas;

namespace {

// One training step's worth of checks on a batch of two 16x16 images: the output shape, a finite
// loss, and a gradient of each parameter's shape.
void check_trains(const MacroArchitecture& a) {
  CAPTURE(a.describe());
  MacroNetwork net(a, {.num_classes = 10, .in_channels = 3, .image_size = 16});
  manual_seed(1);
  Tensor x = randn({2, 3, 16, 16});
  Tensor y = net(x);
  REQUIRE(y.shape() == Shape{2, 10});
  Tensor loss = nn::cross_entropy(y, from_vector<int64_t>({3, 7}));
  REQUIRE(std::isfinite(loss.item<double>()));
  backward(loss);
  for (const auto& [name, p] : net.named_parameters()) {
    CAPTURE(name);
    REQUIRE(p.grad().defined());
    CHECK(p.grad().shape() == p.shape());
  }
}

}  // namespace

TEST_CASE("nas macro space: every architecture a sampler draws builds and trains a step") {
  std::set<BlockType> types;
  std::set<int64_t> kernels, stage_counts;
  for (const auto& sampler : std::vector<std::shared_ptr<Sampler>>{
           std::make_shared<RandomSampler>(3), std::make_shared<TpeSampler>(TpeOptions{}, 4)}) {
    Study study = create_study({.sampler = sampler});
    study.optimize(
        [&](Trial& t) {
          const MacroArchitecture a = sample_architecture(t, {.max_stages = 3, .max_blocks = 2});
          check_trains(a);
          CHECK(architecture_from_params(t.params()) == a);
          CHECK(MacroArchitecture::from_json(a.to_json()) == a);
          for (const auto& st : a.stages) {
            types.insert(st.type);
            kernels.insert(st.kernel);
            CHECK((st.type == BlockType::inverted_bottleneck) == (st.expansion > 1));
          }
          stage_counts.insert(static_cast<int64_t>(a.stages.size()));
          return static_cast<double>(MacroNetwork(a).num_parameters());
        },
        {.n_trials = 15, .catch_errors = false});
    for (const auto& t : study.trials()) CHECK(t->state == TrialState::complete);
  }
  // 30 draws reach every block type, kernel size and depth.
  CHECK(types.size() == all_block_types().size());
  CHECK(kernels == std::set<int64_t>{3, 5, 7});
  CHECK(stage_counts == std::set<int64_t>{2, 3});
}

TEST_CASE("nas blocks: shapes, strides and the shortcuts of each block type") {
  manual_seed(2);
  Tensor x = randn({1, 8, 8, 8});
  for (BlockType type : all_block_types()) {
    const std::string label = name(type);
    CAPTURE(label);
    for (int64_t stride : {1, 2}) {
      Block block({.type = type,
                   .in_channels = 8,
                   .out_channels = 12,
                   .kernel = 5,
                   .stride = stride,
                   .expansion = 3});
      CHECK(block(x).shape() == Shape{1, 12, 8 / stride, 8 / stride});
    }
  }
  // An inverted bottleneck keeping the shape adds its input: zeroing the last BN's scale leaves
  // the identity.
  Block same({.type = BlockType::inverted_bottleneck,
              .in_channels = 8,
              .out_channels = 8,
              .kernel = 3,
              .expansion = 2});
  {
    NoGradGuard no_grad;
    for (auto& [name, p] : same.named_parameters())
      if (name == "body.2.bn.weight" || name == "body.2.bn.bias") fill_(p, 0.0);
  }
  same.eval();
  nabla::testing::check_close(same(x), x.to_vector<double>(), 1e-6);

  CHECK_THROWS_AS(Block({.kernel = 4}), ValueError);
  CHECK_THROWS_AS(Block({.stride = 3}), ValueError);
  CHECK_THROWS_WITH_AS(block_type_from_name("conv"), doctest::Contains("known: plain, residual"),
                       ValueError);
  CHECK_THROWS_AS(MacroSpace{.kernels = {4}}.validate(), ValueError);
  CHECK_THROWS_AS(architecture_from_params({{"stages", int64_t{1}}}), ValueError);
}

TEST_CASE("nas macro space: a residual stage equals ResNet-20's parameter count") {
  // Three stages of three residual 3x3 blocks at widths 16, 32, 64: ResNet-20 with projection
  // shortcuts, 272,474 parameters on CIFAR-10.
  MacroArchitecture a{.base_width = 16, .stages = {}};
  for (int s = 0; s < 3; ++s)
    a.stages.push_back(
        {.blocks = 3, .width_multiplier = 1.0, .kernel = 3, .type = BlockType::residual});
  CHECK(MacroNetwork(a).num_parameters() == 272474);
  CHECK(a.describe() ==
        "3 stages: 3 x residual k3 w16 | 3 x residual k3 w32 | 3 x residual k3 w64");
}
