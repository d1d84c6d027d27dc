// nn::Module: registration and dotted names, modes, placement, state dicts, hooks, summaries.
#include <doctest/doctest.h>

#include <sstream>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "core/creation.h"
#include "core/error.h"
#include "core/generator.h"
#include "nn/activation.h"
#include "nn/containers.h"
#include "nn/conv.h"
#include "nn/dropout.h"
#include "nn/linear.h"
#include "nn/models/resnet.h"
#include "nn/normalization.h"
#include "testing.h"

using namespace nabla;
using nn::Module;
using testing::error_of;

namespace {

// A module with one of everything: a parameter, a persistent and a transient buffer, children.
class Block : public Module {
 public:
  Block() : Module("Block") {
    scale_ = register_parameter("scale", ones({3}));
    count_ = register_buffer("count", zeros({}, {.dtype = kInt64}));
    register_buffer("scratch", zeros({3}), /*persistent=*/false);
    fc_ = register_module("fc", std::make_shared<nn::Linear>(3, 2));
    bn_ = register_module("bn", std::make_shared<nn::BatchNorm1d>(2));
  }
  Tensor forward(const Tensor& x) override { return (*bn_)((*fc_)(mul(x, scale_))); }

  Tensor scale_, count_;
  std::shared_ptr<nn::Linear> fc_;
  std::shared_ptr<nn::BatchNorm1d> bn_;
};

std::vector<std::string> names_of(const nn::NamedTensors& named) {
  std::vector<std::string> out;
  for (const auto& [name, t] : named) out.push_back(name);
  return out;
}

}  // namespace

TEST_CASE("Module: parameters, buffers and children get dotted names in registration order") {
  auto net = nn::sequential({std::make_shared<Block>(), std::make_shared<nn::ReLU>()});
  CHECK(names_of(net->named_parameters()) == std::vector<std::string>{"0.scale", "0.fc.weight",
                                                                      "0.fc.bias", "0.bn.weight",
                                                                      "0.bn.bias"});
  CHECK(names_of(net->named_buffers()) ==
        std::vector<std::string>{"0.count", "0.scratch", "0.bn.running_mean", "0.bn.running_var",
                                 "0.bn.num_batches_tracked"});
  // The state dict has parameters and persistent buffers only, module by module.
  CHECK(names_of(net->state_dict()) ==
        std::vector<std::string>{"0.scale", "0.count", "0.fc.weight", "0.fc.bias", "0.bn.weight",
                                 "0.bn.bias", "0.bn.running_mean", "0.bn.running_var",
                                 "0.bn.num_batches_tracked"});
  CHECK(net->num_parameters() == 3 + 6 + 2 + 2 + 2);
  std::vector<std::string> modules;
  for (auto& [name, module] : net->named_modules()) modules.push_back(name);
  CHECK(modules == std::vector<std::string>{"", "0", "0.fc", "0.bn", "1"});
  // Parameters are leaves that require grad and share data with the members.
  for (const Tensor& p : net->parameters()) CHECK(p.requires_grad());
  CHECK(net->parameters().front().is_same(std::static_pointer_cast<Block>((*net)[0])->scale_));
}

TEST_CASE("Module: ResNet-20 parameter names follow the PyTorch CIFAR ResNets") {
  auto net = nn::models::resnet20();
  auto names = names_of(net->state_dict());
  auto has = [&](const std::string& n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  };
  CHECK(has("conv1.weight"));
  CHECK(has("bn1.running_var"));
  CHECK(has("layer1.0.conv1.weight"));
  CHECK(has("layer2.0.shortcut.0.weight"));
  CHECK(has("layer3.2.bn2.num_batches_tracked"));
  CHECK(has("fc.bias"));
}

TEST_CASE("Module: registering a taken or dotted name is an error") {
  Block block;
  CHECK(error_of([&] {
          block.register_parameter("scale", ones({1}));
        }).find("'scale' is already registered") != std::string::npos);
  CHECK(error_of([&] {
          block.register_buffer("fc", ones({1}));
        }).find("'fc' is already registered") != std::string::npos);
  CHECK(error_of([&] { block.register_parameter("a.b", ones({1})); }).find("contain no '.'") !=
        std::string::npos);
}

TEST_CASE("Module: train and eval reach every descendant") {
  auto net = nn::sequential({std::make_shared<Block>(), std::make_shared<nn::Dropout>(0.5)});
  net->eval();
  for (auto& [name, module] : net->named_modules()) CHECK_FALSE(module->is_training());
  net->train();
  for (auto& [name, module] : net->named_modules()) CHECK(module->is_training());
}

TEST_CASE("Module: to(dtype) converts floating tensors in place, handles stay valid") {
  Block block;
  Tensor scale = block.scale_;
  block.to(kFloat64);
  CHECK(scale.dtype() == kFloat64);  // the handle taken before sees the change
  CHECK(block.fc_->weight().dtype() == kFloat64);
  CHECK(block.count_.dtype() == kInt64);  // integer buffers keep their dtype
  CHECK(scale.requires_grad());
  CHECK(scale.is_leaf());
  Tensor y = block(randn({4, 3}, {.dtype = kFloat64}));
  CHECK(y.dtype() == kFloat64);
  CHECK(error_of([&] { block.to(kInt32); }).find("not a floating-point dtype") !=
        std::string::npos);
}

TEST_CASE("Module: zero_grad clears or zeroes every parameter's gradient") {
  Block block;
  backward(sum(block(randn({4, 3}))));
  for (const Tensor& p : block.parameters()) CHECK(p.grad().defined());
  block.zero_grad(/*set_to_none=*/false);
  for (const Tensor& p : block.parameters()) {
    REQUIRE(p.grad().defined());
    CHECK(sum(abs(p.grad())).item() == 0);
  }
  block.zero_grad();
  for (const Tensor& p : block.parameters()) CHECK_FALSE(p.grad().defined());
}

TEST_CASE("Module: apply visits children before parents") {
  auto net = nn::sequential({std::make_shared<Block>(), std::make_shared<nn::ReLU>()});
  std::vector<std::string> order;
  net->apply([&](Module& m) { order.push_back(m.type_name()); });
  CHECK(order == std::vector<std::string>{"Linear", "BatchNorm1d", "Block", "ReLU", "Sequential"});
  // The usual use: re-initialize every Linear.
  net->apply([](Module& m) {
    if (auto* linear = dynamic_cast<nn::Linear*>(&m)) {
      NoGradGuard no_grad;
      fill_(linear->weight(), 0.5);
    }
  });
  auto block = std::static_pointer_cast<Block>((*net)[0]);
  CHECK(amin(block->fc_->weight()).item() == 0.5);
}

TEST_CASE("Module: load_state_dict copies values into the existing tensors") {
  manual_seed(1);
  Block source, target;
  {
    NoGradGuard no_grad;
    fill_(source.count_, 7);
  }
  Tensor weight_handle = target.fc_->weight();
  nn::LoadReport report = target.load_state_dict(source.state_dict());
  CHECK(report.ok());
  CHECK(weight_handle.is_same(target.fc_->weight()));
  auto a = source.state_dict(), b = target.state_dict();
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].second.to_vector<double>() == b[i].second.to_vector<double>());
    CHECK_FALSE(a[i].second.storage() == b[i].second.storage());  // copied, not shared
  }
  CHECK(target.count_.item<int64_t>() == 7);
}

TEST_CASE("Module: a strict load lists missing, unexpected and mismatched keys, loads nothing") {
  Block block;
  std::vector<double> before = block.fc_->weight().to_vector<double>();
  nn::StateDict state = block.state_dict();
  state.erase(state.begin());                 // drop "scale"
  state.emplace_back("fc.extra", ones({1}));  // unexpected
  state[1] = {"fc.weight", zeros({5, 5})};    // wrong shape
  std::string message = error_of([&] { block.load_state_dict(state); });
  CHECK(message.find("Block::load_state_dict") != std::string::npos);
  CHECK(message.find("missing keys (1): scale") != std::string::npos);
  CHECK(message.find("unexpected keys (1): fc.extra") != std::string::npos);
  CHECK(message.find("fc.weight (module [2, 3], state dict [5, 5])") != std::string::npos);
  CHECK(block.fc_->weight().to_vector<double>() == before);

  // Non-strict: the rest loads and the report says what did not.
  state[1] = {"fc.weight", full({2, 3}, 0.25)};
  nn::LoadReport report = block.load_state_dict(state, /*strict=*/false);
  CHECK(report.missing == std::vector<std::string>{"scale"});
  CHECK(report.unexpected == std::vector<std::string>{"fc.extra"});
  CHECK(report.mismatched.empty());
  CHECK(block.fc_->weight().to_vector<double>() == std::vector<double>(6, 0.25));
}

TEST_CASE("Module: forward hooks see input and output, and can be removed") {
  nn::Linear fc(3, 2);
  int calls = 0;
  Shape seen;
  int64_t handle = fc.register_forward_hook([&](Module&, const Tensor& in, const Tensor& out) {
    ++calls;
    seen = out.shape();
    CHECK(in.shape() == Shape{4, 3});
  });
  fc(zeros({4, 3}));
  CHECK(calls == 1);
  CHECK(seen == Shape{4, 2});
  fc.remove_forward_hook(handle);
  fc(zeros({4, 3}));
  CHECK(calls == 1);
}

TEST_CASE("Module: summary lists each layer's output shape and parameters, and restores mode") {
  auto net = nn::sequential({std::make_shared<nn::Conv2d>(3, 8, 3, nn::Conv2dOptions{.padding = 1}),
                             std::make_shared<nn::BatchNorm2d>(8), std::make_shared<nn::ReLU>(),
                             std::make_shared<nn::Flatten>(),
                             std::make_shared<nn::Linear>(8 * 4 * 4, 10)});
  auto bn = std::static_pointer_cast<nn::BatchNorm2d>((*net)[1]);
  std::string text = net->summary({2, 3, 4, 4});
  INFO(text);
  CHECK(text.find("0 (Conv2d)") != std::string::npos);
  CHECK(text.find("[2, 8, 4, 4]") != std::string::npos);
  CHECK(text.find("224") != std::string::npos);  // 3 * 8 * 9 + 8
  CHECK(text.find("4 (Linear)") != std::string::npos);
  CHECK(text.find("[2, 10]") != std::string::npos);
  CHECK(text.find("parameters: 1530 (trainable 1530)") != std::string::npos);
  CHECK(net->is_training());
  CHECK(bn->num_batches_tracked().item<int64_t>() == 0);  // ran in eval mode
}

TEST_CASE("Module: printing shows the tree with each layer's settings") {
  auto net = nn::sequential(
      {std::make_shared<nn::Linear>(4, 2, false), std::make_shared<nn::Dropout>(0.25)});
  std::ostringstream os;
  os << *net;
  CHECK(os.str() ==
        "Sequential(\n  (0): Linear(in_features=4, out_features=2, bias=false)\n"
        "  (1): Dropout(p=0.25)\n)");
}

TEST_CASE("Module: a container has no forward of its own") {
  nn::ModuleList list{std::make_shared<nn::ReLU>()};
  CHECK(list.size() == 1);
  CHECK(error_of([&] { list(zeros({1})); }).find("ModuleList::forward") != std::string::npos);
}
