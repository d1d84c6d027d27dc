// The backward graph: a Node per recorded op, with edges to the nodes that produced its inputs.
// Every node has one output; its gradient arrives summed over all consumers (see engine.cpp).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/autograd_meta.h"
#include "core/tensor.h"

namespace nabla::autograd {

struct Node;

// Where an input's gradient goes: the node that produced the input (or the leaf's accumulator).
struct Edge {
  std::shared_ptr<Node> node;
  bool valid() const { return node != nullptr; }
};

// The shape, dtype and device of a tensor an edge carries, to check gradients against.
struct TensorMeta {
  Shape shape;
  DType dtype = kFloat32;
  Device device;
};

struct Node : std::enable_shared_from_this<Node> {
  virtual ~Node() = default;
  // Gradients for each of next_edges, given the gradient of this node's output.
  virtual std::vector<Tensor> apply(const Tensor& grad) = 0;
  virtual std::string name() const = 0;
  // Frees what backward needed; a later apply() fails with a clear error.
  virtual void release() {}

  std::vector<Edge> next_edges;
  std::vector<TensorMeta> input_meta;  // one per edge
  TensorMeta output_meta;
  // Hooks on the output tensor (a non-leaf's register_hook), run on its gradient first.
  std::vector<std::function<Tensor(const Tensor&)>> pre_hooks;
};

// A tensor kept for backward, with the version it had then: an in-place change before backward
// runs would make the gradient silently wrong, so get() refuses it.
class SavedTensor {
 public:
  SavedTensor() = default;
  explicit SavedTensor(const Tensor& t) : tensor_(t), version_(t.defined() ? t.version() : 0) {}
  Tensor get() const;

 private:
  Tensor tensor_;
  uint64_t version_ = 0;
};

inline SavedTensor save(const Tensor& t) { return SavedTensor(t); }

// What a gradient rule sees.
class BackwardContext {
 public:
  BackwardContext(Tensor grad, const std::vector<bool>& needs, std::function<Tensor()> output)
      : grad(std::move(grad)), needs_(needs), output_(std::move(output)) {}
  // d(loss)/d(output).
  Tensor grad;
  // Whether input i takes a gradient; a rule may skip (return undefined for) the others.
  bool needs(size_t i) const { return needs_[i]; }
  // The op's result, for rules like exp's; only when recorded with SaveOutput::yes.
  Tensor output() const { return output_(); }

 private:
  const std::vector<bool>& needs_;
  std::function<Tensor()> output_;
};

// A gradient rule: the gradient for each input (undefined where none is needed).
using BackwardFn = std::function<std::vector<Tensor>(const BackwardContext&)>;

enum class SaveOutput : bool { no, yes };

// Records `backward` as the gradient rule of `output`, computed by op `name` from `inputs`, and
// returns `output` wired into the graph. Does nothing when grad mode is off or no input needs a
// gradient, so a forward pass without gradients pays only for building the closure.
Tensor record(const char* name, Tensor output, const std::vector<Tensor>& inputs,
              BackwardFn backward, SaveOutput save_output = SaveOutput::no);

// The edge a gradient for `t` should flow along; invalid when t needs no gradient.
Edge gradient_edge(const Tensor& t);

// The node that accumulates gradients into a leaf's grad(), shared by all uses of the leaf.
std::shared_ptr<Node> grad_accumulator(const Tensor& leaf);

// The autograd slot of `t`, created when missing.
AutogradMeta& autograd_meta(const Tensor& t);

}  // namespace nabla::autograd
