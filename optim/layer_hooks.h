// The Linear and Conv2d layers a curvature optimizer preconditions (K-FAC, natural gradient): the
// hooks that record their inputs and output gradients, and those records as per-example
// matrices.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/backend.h"
#include "nn/module.h"
#include "optim/optimizer.h"

namespace nabla::optim {

// One forward pass through a layer and, once backward has run, its output's gradient.
struct LayerRecord {
  Tensor input;
  Tensor grad_output;
};

// What a layer saw in one forward and backward pass, per example n and position t (a conv's
// output pixel; a Linear layer has one position):
//   a [N, T, columns]: the layer's input (a conv's im2col patch, [C kh kw]), with a 1 appended
//     when the layer's bias is tracked with its weight;
//   g [N, T, out]: the loss's gradient with respect to the layer's output, times N: for a loss
//     that is the mean over the batch, the gradient of the example's own loss.
struct LayerBatch {
  Tensor a;
  Tensor g;
};

struct TrackedLayer {
  std::string weight_name;
  // Empty when the layer has no bias or its bias is in another group (which steps it as a plain
  // parameter).
  std::string bias_name;
  Tensor weight;
  Tensor bias;
  std::optional<Conv2dParams> conv;  // set for Conv2d layers
  nn::Module* module = nullptr;      // not owned
  int64_t hook = -1;
  // Records since the last step. The hooks hold weak references, so that they go quiet once the
  // optimizer (or a later attachment) drops this layer.
  std::shared_ptr<std::vector<std::shared_ptr<LayerRecord>>> records;

  // The weight's rows (out) and the columns of the layer's matrix: in kh kw, plus 1 for a
  // tracked bias.
  int64_t rows() const { return weight.size(0); }
  int64_t columns() const { return weight.numel() / weight.size(0) + (bias_name.empty() ? 0 : 1); }
  // The records whose backward has run, as batches; forgets every record.
  std::vector<LayerBatch> take_batches();
  // The layer's gradient as one matrix [out, columns]: the weight's [out, in kh kw], then the
  // bias's as the last column (zeros when the bias has no gradient).
  Tensor gradient() const;
  // A matrix shaped like gradient() split into the weight's shape and the bias's (undefined
  // when the bias is not tracked).
  std::pair<Tensor, Tensor> split(const Tensor& matrix) const;
};

// Finds in `model` the Linear layers and Conv2d layers (groups = 1) whose weights are among the
// parameters of `groups`, matched by tensor identity, and hooks them: the forward hook records
// the input when the module is training and grad mode is on, and a hook on the output records
// its gradient. A bias joins its weight when it is in the same group.
std::vector<TrackedLayer> track_layers(nn::Module& model, const std::vector<ParamGroup>& groups);

// Removes the layers' forward hooks; their modules must still be alive.
void untrack_layers(std::vector<TrackedLayer>& layers);

}  // namespace nabla::optim
