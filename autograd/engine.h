// Running the backward graph: backward() into leaves' grad(), and autograd::grad() returning
// gradients for chosen inputs, with higher-order gradients when create_graph is set.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace nabla {

// Accumulates d(root)/d(leaf) into every leaf's grad(). `grad` is d(loss)/d(root); it may be
// left out for a one-element root. The graph's saved tensors are freed afterwards unless
// retain_graph (default: create_graph) is set; create_graph (or a CreateGraphGuard in scope)
// records the backward pass itself, so the gradients can be differentiated again. Note that a
// leaf's grad() then holds a graph that holds the leaf: a reference cycle, freed only by
// resetting grad() (prefer autograd::grad for higher-order gradients).
void backward(const Tensor& root, const Tensor& grad = Tensor(), bool retain_graph = false,
              bool create_graph = false);

namespace autograd {

struct GradOptions {
  bool retain_graph = false;  // forced on by create_graph
  bool create_graph = false;
  // An input the outputs do not depend on gets an undefined gradient instead of an error.
  bool allow_unused = false;
};

// d(sum of outputs[i] * grad_outputs[i]) / d(inputs[j]) for each j. Leaves' grad() is untouched.
// Empty grad_outputs means ones, for one-element outputs.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, GradOptions options = {});

}  // namespace autograd
}  // namespace nabla
