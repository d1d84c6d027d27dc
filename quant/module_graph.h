// ModuleGraph: the layers of a model in the order one forward pass runs them, and which layer's
// output each one reads, found by tracing; batch-norm folding, prepare and convert read it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "nn/module.h"

namespace nabla::quant {

// A node's input when no traced layer produced it.
inline constexpr int64_t kModelInput = -1;  // the tensor given to the model
inline constexpr int64_t kUnknown = -2;     // computed outside any layer (an add, a function call)

struct GraphNode {
  std::string name;  // dotted, as named_modules() gives it ("" for a model that is one layer)
  nn::Module* module = nullptr;
  // The index of the node whose output is this node's input, or kModelInput / kUnknown.
  int64_t input = kUnknown;
  Shape input_shape, output_shape;
};

// One entry per call of a layer: a layer called twice appears twice.
struct ModuleGraph {
  std::vector<GraphNode> nodes;

  // The nodes whose input is node i's output.
  std::vector<int64_t> consumers(int64_t i) const;
  // How many times the module appears.
  int64_t calls(const nn::Module* module) const;
  // The index of the first node named `name`; -1 when there is none.
  int64_t find(const std::string& name) const;
  // "conv1 -> bn1 -> act": each node and its input, one line per node, for tests and reports.
  std::string to_string() const;
};

// A layer followed by a batch norm and/or an activation, each reading only the one before it,
// whose intermediate outputs nothing else reads: what folding (conv + bn) and int8 fusion
// (conv/linear + bn + relu) may merge. bn or act is -1 when absent; at least one is present.
struct FusionChain {
  int64_t layer = -1;  // Conv2d or Linear
  int64_t bn = -1;     // BatchNorm
  int64_t act = -1;    // ReLU
};

// Whether a module is a layer for the trace: it has no children besides quantization modules
// (observers, fake quantizers, the QuantState) that prepare attached.
bool is_layer(const nn::Module& module);
// The model's layers with their dotted names, in named_modules order; quantization modules and
// what they hold are not layers.
std::vector<std::pair<std::string, nn::Module*>> model_layers(nn::Module& model);

// Runs model(example_input) once in eval mode without gradient (restoring the mode), observers
// and fake quantizers switched off, with a forward hook on every layer, and pairs a layer's
// input with the latest earlier output that is the same tensor (or a handle to the same data,
// shape and strides).
ModuleGraph trace(nn::Module& model, const Tensor& example_input);

// Every conv/linear -> bn -> relu chain of the graph (see FusionChain), in execution order; each
// module of a chain is called exactly once in the pass.
std::vector<FusionChain> fusion_chains(const ModuleGraph& graph);

}  // namespace nabla::quant
