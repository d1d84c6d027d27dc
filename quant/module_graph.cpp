// Tracing a model's layers with forward hooks, and the conv/linear -> bn -> relu chains in the
// trace.
#include "quant/module_graph.h"

#include <sstream>

#include "autograd/grad_mode.h"
#include "nn/activation.h"
#include "nn/conv.h"
#include "nn/linear.h"
#include "nn/normalization.h"
#include "quant/fake_quantize_module.h"
#include "quant/observer.h"
#include "quant/prepared.h"

namespace nabla::quant {
namespace {

bool is_quant_module(const nn::Module& module) {
  return dynamic_cast<const Observer*>(&module) || dynamic_cast<const FakeQuantize*>(&module) ||
         dynamic_cast<const QuantState*>(&module);
}

// The same tensor, or another handle to the same elements (a view that changes nothing).
bool same_tensor(const Tensor& a, const Tensor& b) {
  if (a.is_same(b)) return true;
  return a.raw_data() == b.raw_data() && a.dtype() == b.dtype() && a.shape() == b.shape() &&
         a.strides() == b.strides();
}

std::string join_name(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

// The layers under `module`, parents' names prefixed; quantization modules are not layers.
void collect_layers(nn::Module& module, const std::string& name,
                    std::vector<std::pair<std::string, nn::Module*>>& out) {
  if (is_quant_module(module)) return;
  if (is_layer(module)) {
    out.emplace_back(name, &module);
    return;
  }
  for (auto& [child_name, child] : module.named_children()) {
    collect_layers(*child, join_name(name, child_name), out);
  }
}

}  // namespace

bool is_layer(const nn::Module& module) {
  for (const auto& [name, child] : module.named_children()) {
    if (!is_quant_module(*child)) return false;
  }
  return true;
}

std::vector<std::pair<std::string, nn::Module*>> model_layers(nn::Module& model) {
  std::vector<std::pair<std::string, nn::Module*>> out;
  collect_layers(model, "", out);
  return out;
}

std::vector<int64_t> ModuleGraph::consumers(int64_t i) const {
  std::vector<int64_t> out;
  for (size_t j = 0; j < nodes.size(); ++j) {
    if (nodes[j].input == i) out.push_back(static_cast<int64_t>(j));
  }
  return out;
}

int64_t ModuleGraph::calls(const nn::Module* module) const {
  int64_t count = 0;
  for (const GraphNode& node : nodes) count += node.module == module;
  return count;
}

int64_t ModuleGraph::find(const std::string& name) const {
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].name == name) return static_cast<int64_t>(i);
  }
  return -1;
}

std::string ModuleGraph::to_string() const {
  std::ostringstream os;
  for (const GraphNode& node : nodes) {
    os << node.name << " (" << node.module->type_name() << ") <- ";
    if (node.input == kModelInput) {
      os << "input";
    } else if (node.input == kUnknown) {
      os << "?";
    } else {
      os << nodes[static_cast<size_t>(node.input)].name;
    }
    os << "\n";
  }
  return os.str();
}

ModuleGraph trace(nn::Module& model, const Tensor& example_input) {
  std::vector<std::pair<std::string, nn::Module*>> layers = model_layers(model);

  ModuleGraph graph;
  // Every output stays alive until the pass ends, so that no later tensor reuses its memory
  // and matches it by address by accident.
  std::vector<Tensor> outputs;
  std::vector<std::pair<nn::Module*, int64_t>> hooks;
  for (auto& [name, layer] : layers) {
    int64_t handle =
        layer->register_forward_hook([&graph, &outputs, &example_input, name](
                                         nn::Module& m, const Tensor& input, const Tensor& output) {
          GraphNode node{.name = name,
                         .module = &m,
                         .input = kUnknown,
                         .input_shape = input.shape(),
                         .output_shape = output.shape()};
          // The latest producer wins: an Identity hands on the tensor it was given.
          for (int64_t j = static_cast<int64_t>(outputs.size()) - 1; j >= 0; --j) {
            if (same_tensor(outputs[static_cast<size_t>(j)], input)) {
              node.input = j;
              break;
            }
          }
          if (node.input == kUnknown && same_tensor(example_input, input)) node.input = kModelInput;
          graph.nodes.push_back(std::move(node));
          outputs.push_back(output);
        });
    hooks.emplace_back(layer, handle);
  }
  // Observation would count the example as data.
  std::vector<std::pair<FakeQuantize*, bool>> fake_quantizers;
  for (auto& [name, module] : model.named_modules()) {
    if (auto* fq = dynamic_cast<FakeQuantize*>(module)) {
      fake_quantizers.emplace_back(fq, fq->observer_enabled());
      fq->enable_observer(false);
    }
  }
  const bool was_training = model.is_training();
  auto restore = [&] {
    for (auto& [layer, handle] : hooks) layer->remove_forward_hook(handle);
    for (auto& [fq, enabled] : fake_quantizers) fq->enable_observer(enabled);
    model.train(was_training);
  };
  try {
    NoGradGuard no_grad;
    model.eval();
    model(example_input);
  } catch (...) {
    restore();
    throw;
  }
  restore();
  return graph;
}

std::vector<FusionChain> fusion_chains(const ModuleGraph& graph) {
  auto module_of = [&](int64_t i) { return graph.nodes[static_cast<size_t>(i)].module; };
  auto single_call = [&](int64_t i) { return graph.calls(module_of(i)) == 1; };
  // The one node that reads node i's output, when exactly one does and it is called once:
  // were the output read elsewhere too, merging the next module would change what that
  // reader sees.
  auto only_consumer = [&](int64_t i) -> int64_t {
    std::vector<int64_t> next = graph.consumers(i);
    return next.size() == 1 && single_call(next[0]) ? next[0] : -1;
  };

  std::vector<FusionChain> chains;
  for (int64_t i = 0; i < static_cast<int64_t>(graph.nodes.size()); ++i) {
    const nn::Module* module = module_of(i);
    bool weighted =
        dynamic_cast<const nn::Conv2d*>(module) || dynamic_cast<const nn::Linear*>(module);
    if (!weighted || !single_call(i)) continue;
    FusionChain chain{.layer = i};
    int64_t next = only_consumer(i);
    if (next >= 0 && dynamic_cast<const nn::BatchNorm*>(module_of(next))) {
      chain.bn = next;
      next = only_consumer(next);
    }
    if (next >= 0 && dynamic_cast<const nn::ReLU*>(module_of(next))) chain.act = next;
    if (chain.bn >= 0 || chain.act >= 0) chains.push_back(chain);
  }
  return chains;
}

}  // namespace nabla::quant
