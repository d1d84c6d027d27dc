// The backward engine. It counts, for every node reachable from the roots, how many edges lead
// into it, then runs nodes in an order where each runs once, after all its consumers have added
// their gradients into its buffer (dependency counting, as in PyTorch's engine).
#include "autograd/engine.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "autograd/ops/elementwise.h"
#include "core/ops.h"

namespace nabla {

namespace autograd {
namespace {

// Gradients to collect instead of accumulating into leaves (autograd::grad): the gradient that
// reaches node `targets[i]` is result i.
struct Captures {
  std::vector<Node*> targets;
  std::vector<Tensor> results;
};

std::unordered_map<Node*, int> count_dependencies(const std::vector<Edge>& roots) {
  std::unordered_map<Node*, int> dependencies;
  std::vector<Node*> stack;
  std::unordered_set<Node*> seen;
  for (const Edge& e : roots)
    if (seen.insert(e.node.get()).second) stack.push_back(e.node.get());
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Edge& e : n->next_edges) {
      if (!e.valid()) continue;
      ++dependencies[e.node.get()];
      if (seen.insert(e.node.get()).second) stack.push_back(e.node.get());
    }
  }
  return dependencies;
}

// The nodes that lie on a path to a capture target: only they need to run.
std::unordered_set<Node*> nodes_leading_to(const std::vector<Edge>& roots,
                                           const std::vector<Node*>& targets) {
  std::unordered_set<Node*> needed(targets.begin(), targets.end());
  std::unordered_map<Node*, bool> done;  // false while on the DFS stack
  std::vector<std::pair<Node*, size_t>> stack;
  for (const Edge& e : roots) {
    if (done.count(e.node.get())) continue;
    stack.push_back({e.node.get(), 0});
    done[e.node.get()] = false;
    while (!stack.empty()) {
      auto& [n, next] = stack.back();
      if (next < n->next_edges.size()) {
        Node* child = n->next_edges[next++].node.get();
        if (child && !done.count(child)) {
          done[child] = false;
          stack.push_back({child, 0});
        }
        continue;
      }
      for (const Edge& e : n->next_edges)
        if (e.valid() && needed.count(e.node.get())) needed.insert(n);
      done[n] = true;
      stack.pop_back();
    }
  }
  return needed;
}

void accumulate(Tensor& slot, const Tensor& grad) {
  if (!grad.defined()) return;
  slot = slot.defined() ? add(slot, grad) : grad;
}

void run_backward(const std::vector<Edge>& roots, const std::vector<Tensor>& root_grads,
                  bool keep_graph, bool create_graph, Captures* captures) {
  std::unordered_map<Node*, int> dependencies = count_dependencies(roots);
  std::unordered_set<Node*> needed;
  if (captures) needed = nodes_leading_to(roots, captures->targets);

  GradModeGuard mode(create_graph);
  std::unordered_map<Node*, Tensor> buffers;
  std::vector<Node*> ready;
  for (size_t i = 0; i < roots.size(); ++i) {
    Node* n = roots[i].node.get();
    accumulate(buffers[n], root_grads[i]);
    if (dependencies[n] == 0 && std::find(ready.begin(), ready.end(), n) == ready.end())
      ready.push_back(n);
  }
  while (!ready.empty()) {
    Node* n = ready.back();
    ready.pop_back();
    Tensor grad = std::move(buffers[n]);
    buffers.erase(n);
    for (const auto& hook : n->pre_hooks)
      if (grad.defined())
        if (Tensor replaced = hook(grad); replaced.defined()) grad = replaced;
    std::vector<Tensor> input_grads;
    if (captures) {
      for (size_t i = 0; i < captures->targets.size(); ++i)
        if (captures->targets[i] == n) captures->results[i] = grad;
      // Leaves' accumulators never run here: grad() leaves grad() fields alone.
      bool runs = needed.count(n) && !n->next_edges.empty();
      if (runs && grad.defined()) input_grads = n->apply(grad);
    } else if (grad.defined()) {
      input_grads = n->apply(grad);
    }
    for (size_t i = 0; i < n->next_edges.size(); ++i) {
      Node* child = n->next_edges[i].node.get();
      if (!child) continue;
      if (i < input_grads.size()) accumulate(buffers[child], input_grads[i]);
      if (--dependencies[child] == 0) ready.push_back(child);
    }
    if (!keep_graph) n->release();
  }
}

// The edge and seed gradient of each root, checked.
void prepare_roots(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
                   const char* op, std::vector<Edge>& edges, std::vector<Tensor>& grads) {
  NABLA_CHECK(grad_outputs.empty() || grad_outputs.size() == outputs.size(), ValueError, op, ": ",
              grad_outputs.size(), " gradients given for ", outputs.size(), " outputs");
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    NABLA_CHECK(out.defined() && out.requires_grad(), AutogradError, op, ": output ", i,
                " does not require grad (no tensor it was computed from has requires_grad set)");
    Tensor g = grad_outputs.empty() ? Tensor() : grad_outputs[i];
    if (!g.defined()) {
      NABLA_CHECK(out.numel() == 1, AutogradError, op,
                  ": a gradient can be implied only for a one-element output; output ", i,
                  " has shape ", out.shape(), ", so pass its gradient");
      g = ones_like(out);
    }
    NABLA_CHECK(g.shape() == out.shape(), ShapeError, op, ": the gradient's shape ", g.shape(),
                " does not match output ", i, "'s shape ", out.shape());
    edges.push_back(gradient_edge(out));
    grads.push_back(g.dtype() == out.dtype() ? g : core::to(g, out.dtype()));
  }
}

}  // namespace

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, GradOptions options) {
  std::vector<Edge> roots;
  std::vector<Tensor> root_grads;
  prepare_roots(outputs, grad_outputs, "grad", roots, root_grads);
  Captures captures;
  for (size_t i = 0; i < inputs.size(); ++i) {
    NABLA_CHECK(inputs[i].defined() && inputs[i].requires_grad(), AutogradError, "grad: input ", i,
                " does not require grad");
    captures.targets.push_back(gradient_edge(inputs[i]).node.get());
  }
  captures.results.resize(inputs.size());
  run_backward(roots, root_grads, options.retain_graph || options.create_graph,
               options.create_graph, &captures);
  for (size_t i = 0; i < inputs.size(); ++i)
    NABLA_CHECK(options.allow_unused || captures.results[i].defined(), AutogradError,
                "grad: input ", i, " (shape ", inputs[i].shape(),
                ") was not used to compute the outputs; set allow_unused to get an undefined "
                "gradient for it");
  return captures.results;
}

}  // namespace autograd

void backward(const Tensor& root, const Tensor& grad, bool retain_graph, bool create_graph) {
  std::vector<autograd::Edge> roots;
  std::vector<Tensor> root_grads;
  autograd::prepare_roots({root}, {grad}, "backward", roots, root_grads);
  create_graph = create_graph || CreateGraphGuard::is_enabled();
  autograd::run_backward(roots, root_grads, retain_graph || create_graph, create_graph, nullptr);
}

}  // namespace nabla
