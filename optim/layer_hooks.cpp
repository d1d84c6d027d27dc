// Hooks on Linear and Conv2d layers, and their records turned into per-example inputs (im2col
// patches for convolutions) and output gradients.
#include "optim/layer_hooks.h"

#include <map>

#include "autograd/grad_mode.h"
#include "autograd/hooks.h"
#include "core/ops.h"
#include "nn/conv.h"
#include "nn/linear.h"

namespace nabla::optim {
namespace {

// x [N, C, H, W] -> [N, OH OW, C kh kw]: the input patch under each output pixel, zero padding
// included (im2col, one row per output position).
Tensor conv_patches(const Tensor& x, const Shape& weight_shape, const Conv2dParams& p) {
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const int64_t kh = weight_shape[2], kw = weight_shape[3];
  Shape out = core::conv2d_output_shape(x.shape(), weight_shape, p);
  Tensor padded = core::contiguous(x);
  if (p.padding[0] != 0 || p.padding[1] != 0) {
    padded = zeros({n, c, h + 2 * p.padding[0], w + 2 * p.padding[1]},
                   {.dtype = x.dtype(), .device = x.device()});
    core::copy_(core::slice(core::slice(padded, 2, p.padding[0], p.padding[0] + h), 3, p.padding[1],
                            p.padding[1] + w),
                x);
  }
  const int64_t hp = padded.size(2), wp = padded.size(3);
  // windows [N, OH, OW, C, kh, kw] over padded's storage.
  Tensor windows = core::as_strided(
      padded, {n, out[2], out[3], c, kh, kw},
      {c * hp * wp, p.stride[0] * wp, p.stride[1], hp * wp, p.dilation[0] * wp, p.dilation[1]},
      padded.offset());
  return core::reshape(windows, {n, out[2] * out[3], c * kh * kw});
}

LayerBatch to_batch(const TrackedLayer& layer, const LayerRecord& record) {
  Tensor a, g;  // [N, T, columns], [N, T, out]
  const int64_t out = layer.rows();
  if (layer.conv) {
    a = conv_patches(record.input, layer.weight.shape(), *layer.conv);
    Tensor grad = core::permute(record.grad_output, {0, 2, 3, 1});  // [N, OH, OW, out]
    g = core::reshape(grad, {grad.size(0), -1, out});
  } else {
    // Every row of a Linear layer's input [*, in] counts as an example.
    const int64_t in = layer.weight.size(1);
    a = core::reshape(record.input, {-1, 1, in});
    g = core::reshape(record.grad_output, {-1, 1, out});
  }
  if (!layer.bias_name.empty()) {
    Tensor ones_column =
        ones({a.size(0), a.size(1), 1}, {.dtype = a.dtype(), .device = a.device()});
    a = core::cat({a, ones_column}, 2);
  }
  g = core::binary(BinaryOp::mul, g, static_cast<double>(g.size(0)));
  return {a, g};
}

// Records the input of each training forward pass with grad on, and hooks its output for the
// gradient.
nn::Module::ForwardHook record_hook(
    const std::shared_ptr<std::vector<std::shared_ptr<LayerRecord>>>& records) {
  std::weak_ptr<std::vector<std::shared_ptr<LayerRecord>>> weak_records = records;
  return [weak_records](nn::Module& module, const Tensor& input, const Tensor& output) {
    auto list = weak_records.lock();
    if (!list || !module.is_training() || !GradMode::is_enabled() || !output.requires_grad())
      return;
    auto record = std::make_shared<LayerRecord>(LayerRecord{core::alias(input), Tensor()});
    list->push_back(record);
    std::weak_ptr<LayerRecord> weak_record = record;
    register_hook(output, [weak_record](const Tensor& grad) {
      if (auto r = weak_record.lock())  // a second backward through the graph adds up, as .grad
        r->grad_output = r->grad_output.defined()
                             ? core::binary(BinaryOp::add, r->grad_output, grad)
                             : core::alias(grad);
      return Tensor();
    });
  };
}

}  // namespace

std::vector<LayerBatch> TrackedLayer::take_batches() {
  std::vector<LayerBatch> batches;
  for (const auto& record : *records)
    if (record->grad_output.defined()) batches.push_back(to_batch(*this, *record));
  records->clear();
  return batches;
}

Tensor TrackedLayer::gradient() const {
  Tensor g = core::reshape(weight.grad(), {rows(), -1});
  if (bias_name.empty()) return g;
  Tensor bias_grad = bias.grad().defined() ? bias.grad() : zeros_like(bias);
  return core::cat({g, core::reshape(bias_grad, {rows(), 1})}, 1);
}

std::pair<Tensor, Tensor> TrackedLayer::split(const Tensor& matrix) const {
  const int64_t weight_columns = weight.numel() / rows();
  Tensor w =
      core::reshape(core::contiguous(core::slice(matrix, 1, 0, weight_columns)), weight.shape());
  if (bias_name.empty()) return {w, Tensor()};
  return {w, core::contiguous(core::select(matrix, 1, weight_columns))};
}

std::vector<TrackedLayer> track_layers(nn::Module& model, const std::vector<ParamGroup>& groups) {
  // Each parameter's name and group, by tensor identity.
  std::map<const TensorImpl*, std::pair<std::string, size_t>> owners;
  for (size_t i = 0; i < groups.size(); ++i)
    for (const auto& [name, p] : groups[i].params) owners.emplace(p.impl(), std::pair{name, i});

  std::vector<TrackedLayer> layers;
  for (auto& [path, module] : model.named_modules()) {
    TrackedLayer layer;
    if (auto* linear = dynamic_cast<nn::Linear*>(module)) {
      layer.weight = linear->weight();
      layer.bias = linear->bias();
    } else if (auto* conv = dynamic_cast<nn::Conv2d*>(module)) {
      if (conv->params().groups != 1) continue;  // grouped: its weight steps as a plain parameter
      layer.weight = conv->weight();
      layer.bias = conv->bias();
      layer.conv = conv->params();
    } else {
      continue;
    }
    auto weight_owner = owners.find(layer.weight.impl());
    if (weight_owner == owners.end()) continue;
    layer.weight_name = weight_owner->second.first;
    if (layer.bias.defined()) {
      auto bias_owner = owners.find(layer.bias.impl());
      if (bias_owner != owners.end() && bias_owner->second.second == weight_owner->second.second)
        layer.bias_name = bias_owner->second.first;
    }
    layer.module = module;
    layer.records = std::make_shared<std::vector<std::shared_ptr<LayerRecord>>>();
    layer.hook = module->register_forward_hook(record_hook(layer.records));
    layers.push_back(std::move(layer));
  }
  return layers;
}

void untrack_layers(std::vector<TrackedLayer>& layers) {
  for (TrackedLayer& layer : layers) layer.module->remove_forward_hook(layer.hook);
  layers.clear();
}

}  // namespace nabla::optim
