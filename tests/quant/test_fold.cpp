// Batch-norm folding and the traced module graph: the folded layer computes what conv + bn
// computed (float32 and float64), in place the bn becomes an exact bias, and the traces of
// SmallCNN and ResNet-20 give their conv -> bn -> relu chains.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "core/creation.h"
#include "core/generator.h"
#include "core/ops.h"
#include "nn/activation.h"
#include "nn/models/cnn.h"
#include "nn/models/resnet.h"
#include "quant/fold.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::quant;
using testing::error_of;
using testing::values;

namespace {

// max |a - b| / max |b|: the error relative to the output's scale.
double relative_error(const Tensor& a, const Tensor& b) {
  std::vector<double> x = values(a), y = values(b);
  REQUIRE(x.size() == y.size());
  double diff = 0, scale = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    diff = std::max(diff, std::abs(x[i] - y[i]));
    scale = std::max(scale, std::abs(y[i]));
  }
  return diff / scale;
}

// Statistics and affine parameters far from the defaults (mean 0, var 1, gamma 1, beta 0).
void randomize(nn::BatchNorm& bn) {
  NoGradGuard no_grad;
  const int64_t c = bn.num_features();
  core::copy_(bn.running_mean(), randn({c}));
  core::copy_(bn.running_var(), add(mul(rand({c}), 3.0), 0.1));
  core::copy_(bn.weight(), randn({c}));
  core::copy_(bn.bias(), randn({c}));
}

// Every BatchNorm of a model randomized.
void randomize_all(nn::Module& model) {
  for (auto& [name, module] : model.named_modules()) {
    if (auto* bn = dynamic_cast<nn::BatchNorm*>(module)) randomize(*bn);
  }
}

Tensor channel_view(const Tensor& v, int64_t rank) {
  Shape shape(static_cast<size_t>(rank), 1);
  shape[1] = v.size(0);
  return reshape(v, shape);
}

}  // namespace

TEST_CASE("fold_conv_bn: conv with W', b' equals bn(conv(x)) in eval mode") {
  manual_seed(11);
  // float32 to 1e-5 of the output's scale, float64 to 1e-12.
  for (DType dtype : {kFloat32, kFloat64}) {
    for (bool bias : {true, false}) {
      for (int64_t groups : {1, 2}) {
        INFO(dtype, " bias ", bias, " groups ", groups);
        nn::Conv2d conv(4, 6, 3, {.stride = 2, .padding = 1, .groups = groups, .bias = bias});
        nn::BatchNorm2d bn(6);
        randomize(bn);
        conv.to(dtype);
        bn.to(dtype);
        bn.eval();
        Tensor x = core::to(randn({2, 4, 7, 7}), dtype);
        NoGradGuard no_grad;
        Tensor reference = bn(conv(x));
        FoldedConv folded = fold_conv_bn(conv, bn);
        CHECK(folded.weight.dtype() == dtype);
        CHECK(folded.bias.shape() == Shape{6});
        Tensor y = conv2d(x, folded.weight, folded.bias, conv.params());
        double tolerance = dtype == kFloat32 ? 1e-5 : 1e-12;
        CHECK(relative_error(y, reference) < tolerance);

        // In place: the same output through the unchanged structure, the bn now x + b' exactly.
        fold_batch_norm_in_place(conv, bn);
        Tensor z = conv(x);
        CHECK(relative_error(bn(z), reference) < tolerance);
        CHECK(values(bn(z)) == values(add(z, channel_view(bn.bias(), 4))));
        CHECK(values(bn.running_mean()) == std::vector<double>(6, 0.0));
        CHECK(values(bn.weight()) == std::vector<double>(6, 1.0));
        CHECK_FALSE(bn.weight().requires_grad());
        CHECK(bn.statistics_frozen());
        if (bias) CHECK(values(conv.bias()) == std::vector<double>(6, 0.0));
        // Frozen: training mode computes the same and leaves the statistics alone.
        bn.train();
        CHECK(values(bn(z)) == values(add(z, channel_view(bn.bias(), 4))));
        CHECK(values(bn.running_mean()) == std::vector<double>(6, 0.0));
      }
    }
  }
}

TEST_CASE("fold_linear_bn: Linear + BatchNorm1d") {
  manual_seed(12);
  nn::Linear fc(5, 3);
  nn::BatchNorm1d bn(3);
  randomize(bn);
  bn.eval();
  Tensor x = randn({4, 5});
  NoGradGuard no_grad;
  Tensor reference = bn(fc(x));
  FoldedConv folded = fold_linear_bn(fc, bn);
  Tensor y = add(matmul(x, transpose(folded.weight, 0, 1)), folded.bias);
  CHECK(relative_error(y, reference) < 1e-5);
  fold_batch_norm_in_place(fc, bn);
  CHECK(relative_error(bn(fc(x)), reference) < 1e-5);

  nn::BatchNorm1d wrong(4);
  CHECK(error_of([&] { fold_linear_bn(fc, wrong); }) ==
        "fold_linear_bn: BatchNorm1d has 4 channels but the weight [3, 5] has 3 output channels");
  nn::BatchNorm1d plain(3, {.affine = false});
  CHECK(error_of([&] { fold_batch_norm_in_place(fc, plain); }) ==
        "fold_batch_norm_in_place: BatchNorm1d has no affine parameters (affine false) to hold "
        "the folded bias");
}

TEST_CASE("trace: SmallCNN's layers in order, each fed by the one before") {
  manual_seed(13);
  nn::models::SmallCNN model;
  model.train();
  ModuleGraph graph = trace(model, randn({2, 3, 32, 32}));
  std::vector<std::string> names;
  for (const GraphNode& node : graph.nodes) names.push_back(node.name);
  CHECK(names == std::vector<std::string>{"conv1", "act1", "pool1", "conv2", "act2", "pool2",
                                          "conv3", "act3", "pool3", "flatten", "fc"});
  CHECK(graph.nodes[0].input == kModelInput);
  for (size_t i = 1; i < graph.nodes.size(); ++i) {
    CHECK(graph.nodes[i].input == static_cast<int64_t>(i) - 1);
  }
  CHECK(graph.nodes[10].input_shape == Shape{2, 2048});
  CHECK(graph.nodes[10].output_shape == Shape{2, 10});
  // The mode is restored.
  CHECK(model.is_training());
  std::vector<FusionChain> chains = fusion_chains(graph);
  REQUIRE(chains.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(graph.nodes[static_cast<size_t>(chains[i].layer)].name == "conv" + std::to_string(i + 1));
    CHECK(chains[i].bn == -1);
    CHECK(graph.nodes[static_cast<size_t>(chains[i].act)].name == "act" + std::to_string(i + 1));
  }
}

TEST_CASE("trace: ResNet-20's conv -> bn -> relu chains; fuse_conv_bn keeps its outputs") {
  manual_seed(14);
  auto model = nn::models::resnet20();
  randomize_all(*model);
  Tensor x = randn({2, 3, 32, 32});
  ModuleGraph graph = trace(*model, x);
  // The stem (3), nine blocks of conv1, bn1, act1, conv2, bn2, act2 (the first of stages 2 and 3
  // with a projection shortcut, two more), and fc.
  CHECK(graph.nodes.size() == 3 + 9 * 6 + 2 * 2 + 1);
  auto node = [&](const std::string& name) {
    int64_t i = graph.find(name);
    REQUIRE(i >= 0);
    return i;
  };
  CHECK(graph.nodes[static_cast<size_t>(node("conv1"))].input == kModelInput);
  CHECK(graph.nodes[static_cast<size_t>(node("bn1"))].input == node("conv1"));
  CHECK(graph.nodes[static_cast<size_t>(node("layer1.0.conv1"))].input == node("act"));
  // act2 reads bn2's output plus the shortcut, which no layer produced; fc reads the pooled
  // features.
  CHECK(graph.nodes[static_cast<size_t>(node("layer1.0.act2"))].input == kUnknown);
  CHECK(graph.nodes[static_cast<size_t>(node("fc"))].input == kUnknown);
  CHECK(graph.nodes[static_cast<size_t>(node("layer2.0.shortcut.0"))].input ==
        node("layer1.2.act2"));

  std::vector<FusionChain> chains = fusion_chains(graph);
  // 1 stem + 9 * 2 block convs + 2 projections, every one with its bn; the stem's and each
  // block's first conv also with their ReLU.
  REQUIRE(chains.size() == 21);
  int64_t with_relu = 0;
  for (const FusionChain& chain : chains) {
    REQUIRE(chain.bn >= 0);
    with_relu += chain.act >= 0;
  }
  CHECK(with_relu == 10);
  auto chain_of = [&](const std::string& conv) {
    for (const FusionChain& chain : chains) {
      if (chain.layer == node(conv)) return chain;
    }
    FAIL("no chain for ", conv);
    return FusionChain{};
  };
  FusionChain block = chain_of("layer2.1.conv1");
  CHECK(block.bn == node("layer2.1.bn1"));
  CHECK(block.act == node("layer2.1.act1"));
  FusionChain second = chain_of("layer3.2.conv2");
  CHECK(second.bn == node("layer3.2.bn2"));
  CHECK(second.act == -1);
  CHECK(chain_of("layer3.0.shortcut.0").bn == node("layer3.0.shortcut.1"));

  // Folding every pair leaves the eval output within 1e-5 of its scale in float32 (1e-12 in
  // float64), a second fuse finds nothing left to fold.
  for (DType dtype : {kFloat32, kFloat64}) {
    INFO(dtype);
    auto net = nn::models::resnet20();
    randomize_all(*net);
    net->to(dtype);
    net->eval();
    Tensor input = core::to(x, dtype);
    Tensor before, after;
    {
      NoGradGuard no_grad;
      before = (*net)(input);
    }
    FoldResult result = fuse_conv_bn(*net, input);
    CHECK(result.folded.size() == 21);
    {
      NoGradGuard no_grad;
      after = (*net)(input);
    }
    CHECK(relative_error(after, before) < (dtype == kFloat32 ? 1e-5 : 1e-12));
    CHECK(fuse_conv_bn(*net, input).folded.empty());
  }
}
