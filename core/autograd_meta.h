// The data in a tensor's autograd slot. Core stores it so that Tensor can answer requires_grad()
// and grad(); the graph types it points at (Node) belong to autograd/ and stay opaque here.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "core/tensor.h"

namespace nabla {

namespace autograd {
struct Node;
}

struct AutogradMeta {
  bool requires_grad = false;
  Tensor grad;
  // The node that produced this tensor and which of its outputs this is; null for leaves.
  std::shared_ptr<autograd::Node> grad_fn;
  uint32_t output_nr = 0;
  // A leaf's gradient sink, shared by every use of the leaf in one graph (autograd/accumulate.h).
  std::weak_ptr<autograd::Node> grad_accumulator;
  // Run on this tensor's gradient before it flows on; a hook may return a replacement.
  std::vector<std::function<Tensor(const Tensor&)>> hooks;
  bool retains_grad = false;
};

}  // namespace nabla
