// Recording ops into the graph: op nodes, leaf accumulators, saved tensors.
#include "autograd/node.h"

#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "core/ops.h"

namespace nabla::autograd {

namespace {

TensorMeta meta_of(const Tensor& t) {
  if (!t.defined()) return {};
  return {t.shape(), t.dtype(), t.device()};
}

// The node of one recorded op: its gradient rule and what the rule saved.
class FunctionNode final : public Node {
 public:
  FunctionNode(const char* name, BackwardFn backward)
      : name_(name), backward_(std::move(backward)) {}

  std::string name() const override { return name_; }

  std::vector<Tensor> apply(const Tensor& grad) override {
    NABLA_CHECK(backward_, AutogradError, name_,
                ": backward through this part of the graph ran already and freed its saved "
                "tensors; pass retain_graph=true to the first backward to run it twice");
    BackwardContext ctx(grad, needs_, [this] { return unpack_output(); });
    std::vector<Tensor> grads = backward_(ctx);
    NABLA_ASSERT(grads.size() == next_edges.size());
    for (size_t i = 0; i < grads.size(); ++i) {
      if (!grads[i].defined() || !next_edges[i].valid()) continue;
      const TensorMeta& want = input_meta[i];
      NABLA_CHECK(grads[i].shape() == want.shape && grads[i].dtype() == want.dtype, Error,
                  "internal error: the gradient rule of ", name_, " gave input ", i, " a ",
                  grads[i].dtype(), " gradient of shape ", grads[i].shape(), " for a ", want.dtype,
                  " input of shape ", want.shape);
    }
    return grads;
  }

  void release() override {
    backward_ = nullptr;
    output_ = SavedTensor();
  }

  std::vector<bool> needs_;
  SavedTensor output_;
  bool saves_output_ = false;

 private:
  // The saved result, re-attached to this node when the backward pass itself records a graph
  // (create_graph), so that higher-order gradients flow through formulas that use it. The node
  // keeps only a detached alias: holding the result itself would be a reference cycle.
  Tensor unpack_output() {
    NABLA_ASSERT(saves_output_);
    Tensor out = output_.get();
    if (!GradMode::is_enabled()) return out;
    Tensor attached = core::alias(out);
    AutogradMeta& m = autograd_meta(attached);
    m.requires_grad = true;
    m.grad_fn = shared_from_this();
    return attached;
  }

  const char* name_;
  BackwardFn backward_;
};

// The sink at a leaf: runs the leaf's hooks and adds the gradient into leaf.grad().
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(Tensor leaf) : leaf_(std::move(leaf)) {}
  std::string name() const override { return "AccumulateGrad"; }

  std::vector<Tensor> apply(const Tensor& incoming) override {
    AutogradMeta& m = autograd_meta(leaf_);
    Tensor grad = incoming;
    for (const auto& hook : m.hooks)
      if (Tensor replaced = hook(grad); replaced.defined()) grad = replaced;
    if (!m.grad.defined()) {
      // Under create_graph the gradient keeps its graph. Otherwise it is stored as it is when
      // nothing else holds it (the engine's buffer moved it here), else as a private copy, so
      // that accumulating into it later cannot change another tensor.
      bool owned = grad.impl_ptr().use_count() <= 2 && grad.storage().use_count() == 1 &&
                   grad.is_contiguous();
      m.grad = GradMode::is_enabled() ? grad : (owned ? core::alias(grad) : core::clone(grad));
    } else if (GradMode::is_enabled() || m.grad.requires_grad()) {
      m.grad = add(m.grad, grad);
    } else {
      core::binary_(BinaryOp::add, m.grad, grad);
    }
    return {};
  }

 private:
  Tensor leaf_;
};

}  // namespace

Tensor SavedTensor::get() const {
  if (tensor_.defined())
    NABLA_CHECK(tensor_.version() == version_, AutogradError, "a tensor saved for backward (shape ",
                tensor_.shape(), ") was modified in place after it was saved (version ", version_,
                " then, ", tensor_.version(), " now); clone it before the in-place op");
  return tensor_;
}

AutogradMeta& autograd_meta(const Tensor& t) {
  if (!t.impl()->autograd) t.impl()->autograd = std::make_shared<AutogradMeta>();
  return *t.impl()->autograd;
}

std::shared_ptr<Node> grad_accumulator(const Tensor& leaf) {
  AutogradMeta& m = autograd_meta(leaf);
  if (std::shared_ptr<Node> existing = m.grad_accumulator.lock()) return existing;
  auto node = std::make_shared<AccumulateGrad>(leaf);
  node->output_meta = meta_of(leaf);
  m.grad_accumulator = node;
  return node;
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return {};
  const AutogradMeta& m = *t.impl()->autograd;
  return {m.grad_fn ? m.grad_fn : grad_accumulator(t)};
}

Tensor record(const char* name, Tensor output, const std::vector<Tensor>& inputs,
              BackwardFn backward, SaveOutput save_output) {
  if (!GradMode::is_enabled() || !is_floating(output.dtype())) return output;
  bool any = false;
  for (const Tensor& t : inputs) any = any || (t.defined() && t.requires_grad());
  if (!any) return output;
  // An op may hand back its input unchanged (contiguous() of a contiguous tensor); the result
  // still needs its own autograd slot.
  for (const Tensor& t : inputs)
    if (output.is_same(t)) output = core::alias(output);

  auto node = std::make_shared<FunctionNode>(name, std::move(backward));
  for (const Tensor& t : inputs) {
    node->next_edges.push_back(gradient_edge(t));
    node->input_meta.push_back(meta_of(t));
    node->needs_.push_back(node->next_edges.back().valid());
  }
  node->output_meta = meta_of(output);
  if (save_output == SaveOutput::yes) {
    node->saves_output_ = true;
    node->output_ = SavedTensor(core::alias(output));
  }
  AutogradMeta& m = autograd_meta(output);
  m.requires_grad = true;
  m.grad_fn = std::move(node);
  m.output_nr = 0;
  return output;
}

}  // namespace nabla::autograd
