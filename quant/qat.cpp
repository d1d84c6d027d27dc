// prepare_qat and its schedule: fake quantizers through transforms (a batch norm's fold simulated
// in its layer's weight), observer freezing, and freezing batch-norm statistics.
#include "quant/qat.h"

#include <map>

#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "core/error.h"
#include "core/ops.h"
#include "nn/conv.h"
#include "nn/linear.h"
#include "nn/normalization.h"
#include "quant/module_graph.h"

namespace nabla::quant {
namespace {

std::shared_ptr<FakeQuantize> make_fake_quantize(ObserverKind kind, const ObserverOptions& options,
                                                 const QatConfig& config) {
  return std::make_shared<FakeQuantize>(make_observer(kind, options), config.learnable,
                                        config.grad_factor);
}

bool is_float(const Tensor& x) { return x.defined() && is_floating(x.dtype()); }

// What folding multiplies each output channel of the weight by, gamma / sqrt(running_var + eps),
// shaped to broadcast against it, as a constant (no gradient). A channel whose factor is 0
// (gamma 0) keeps 1: the batch norm zeroes that channel anyway, and the transform divides by it.
Tensor fold_factor(const nn::BatchNorm& bn, const Tensor& weight) {
  Tensor factor = rsqrt(add(detach(bn.running_var()), bn.eps()));
  if (bn.weight().defined()) factor = mul(factor, detach(bn.weight()));
  factor = where(eq(factor, 0.0), 1.0, factor);
  Shape per_row(static_cast<size_t>(weight.dim()), 1);
  per_row[0] = weight.size(0);
  return reshape(core::to(factor, weight.dtype()), per_row);
}

// The weight int8 inference holds for a layer a batch norm follows is the folded one, so that is
// what is fake-quantized: w -> fq(w * f) / f, f the fold factor. Dividing by f hands the batch
// norm a weight on the stored scale, so the stored weights, gamma and beta train as in float and
// the optimizer's state stays theirs (PyTorch's fused ConvBn QAT modules do the same).
void fake_quantize_folded(nn::WeightedLayer& layer, const nn::BatchNorm& bn,
                          const std::shared_ptr<FakeQuantize>& fq, QuantState& state) {
  const nn::BatchNorm* norm = &bn;
  layer.set_weight_transform([fq, norm](const Tensor& weight) {
    const Tensor factor = fold_factor(*norm, weight);
    if (fq->observer_enabled()) fq->observer().reset();
    return div((*fq)(mul(weight, factor)), factor);
  });
  state.mark_weight_folded(layer);
}

}  // namespace

void prepare_qat(nn::Module& model, const QatConfig& config, const Tensor& example_input) {
  NABLA_CHECK(!is_prepared(model), ValueError, "prepare_qat: ", model.type_name(),
              " is already prepared (", *quant_state(model), "); call unprepare first");
  const QuantConfig& quant = config.quant;
  auto points = quantization_points(model, example_input);
  auto layers = model_layers(model);
  // The batch norm after each layer, when an example input shows the chains.
  std::map<const nn::Module*, nn::BatchNorm*> batch_norm_after;
  if (example_input.defined()) {
    const ModuleGraph graph = trace(model, example_input);
    for (const FusionChain& chain : fusion_chains(graph)) {
      if (chain.bn < 0) continue;
      batch_norm_after[graph.nodes[static_cast<size_t>(chain.layer)].module] =
          dynamic_cast<nn::BatchNorm*>(graph.nodes[static_cast<size_t>(chain.bn)].module);
    }
  }
  auto state = model.register_module(kQuantState, std::make_shared<QuantState>(quant, true));

  for (auto& [name, layer] : points) {
    auto fq = layer->register_module(
        kOutputFakeQuant, make_fake_quantize(quant.activation_observer, quant.activation, config));
    int64_t handle =
        layer->register_output_transform([fq](nn::Module&, const Tensor&, const Tensor& output) {
          return is_float(output) ? (*fq)(output) : output;
        });
    nn::Module* target = layer;
    state->on_unprepare([target, handle] {
      target->remove_output_transform(handle);
      target->remove_module(kOutputFakeQuant);
    });
  }

  for (auto& [name, layer] : layers) {
    auto* weighted = dynamic_cast<nn::WeightedLayer*>(layer);
    if (!weighted || !(dynamic_cast<nn::Conv2d*>(layer) || dynamic_cast<nn::Linear*>(layer))) {
      continue;
    }
    NABLA_CHECK(!weighted->has_weight_transform(), ValueError, "prepare_qat: ", name, " (",
                layer->type_name(), ") already has a weight transform");
    ObserverOptions options = quant.weight;
    // The channel count is known, so that scale and zero point have their size from the start
    // (and a checkpoint's state matches a freshly prepared model's).
    if (options.scheme.per_channel()) {
      options.channels =
          weighted->weight().size(options.scheme.axis_for(weighted->weight().dim(), "prepare_qat"));
    }
    auto fq = layer->register_module(kWeightFakeQuant,
                                     make_fake_quantize(quant.weight_observer, options, config));
    if (auto bn = batch_norm_after.find(layer); bn != batch_norm_after.end() && bn->second) {
      fake_quantize_folded(*weighted, *bn->second, fq, *state);
    } else {
      weighted->set_weight_transform([fq](const Tensor& weight) {
        if (fq->observer_enabled()) fq->observer().reset();
        return (*fq)(weight);
      });
    }
    state->on_unprepare([weighted] {
      weighted->clear_weight_transform();
      weighted->remove_module(kWeightFakeQuant);
    });
  }

  if (quant.quantize_input) {
    auto fq = model.register_module(
        kInputFakeQuant, make_fake_quantize(quant.activation_observer, quant.activation, config));
    int64_t handle = model.register_input_transform(
        [fq](nn::Module&, const Tensor& input) { return is_float(input) ? (*fq)(input) : input; });
    nn::Module* root = &model;
    state->on_unprepare([root, handle] {
      root->remove_input_transform(handle);
      root->remove_module(kInputFakeQuant);
    });
  }
}

void freeze_observers(nn::Module& model, bool on) {
  for (auto& [name, module] : model.named_modules()) {
    if (auto* fq = dynamic_cast<FakeQuantize*>(module)) fq->enable_observer(!on);
  }
}

void freeze_batch_norm(nn::Module& model, const Tensor& example_input) {
  QuantState* state = quant_state(model);
  NABLA_CHECK(state && state->qat(), ValueError, "freeze_batch_norm: ", model.type_name(),
              " was not prepared for QAT (call quant::prepare_qat first)");
  const ModuleGraph graph = trace(model, example_input);
  for (const FusionChain& chain : fusion_chains(graph)) {
    if (chain.bn < 0) continue;
    nn::Module* layer = graph.nodes[static_cast<size_t>(chain.layer)].module;
    auto& bn = dynamic_cast<nn::BatchNorm&>(*graph.nodes[static_cast<size_t>(chain.bn)].module);
    bn.freeze_statistics();
    auto* weighted = dynamic_cast<nn::WeightedLayer*>(layer);
    for (auto& [name, child] : layer->named_children()) {
      auto fq = std::dynamic_pointer_cast<FakeQuantize>(child);
      if (!fq) continue;
      if (name == kWeightFakeQuant && weighted && !state->weight_folded(*layer)) {
        // Prepared without an example input, the layer quantized its own weight. From now on it
        // quantizes the folded one, whose ranges differ per channel: a frozen (or learned) scale
        // restarts from them.
        fake_quantize_folded(*weighted, bn, fq, *state);
        NoGradGuard no_grad;
        fq->observer().reset();
        fq->observer().observe(mul(weighted->weight(), fold_factor(bn, weighted->weight())));
        fq->update_qparams();
      } else if (name == kOutputFakeQuant) {
        // int8 inference runs the layer and its batch norm as one op: the layer's own output is
        // no longer a quantization point.
        fq->enable_observer(false);
        fq->enable_fake_quant(false);
      }
    }
  }
}

void QatSchedule::on_epoch_start(nn::Module& model, int64_t epoch, const Tensor& example_input) {
  if (!observers_frozen && observer_freeze_epoch && epoch >= *observer_freeze_epoch) {
    freeze_observers(model);
    observers_frozen = true;
  }
  if (!bn_frozen && bn_freeze_epoch && epoch >= *bn_freeze_epoch) {
    freeze_batch_norm(model, example_input);
    bn_frozen = true;
  }
}

}  // namespace nabla::quant
