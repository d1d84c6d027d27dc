// prepare_qat and its schedule: fake quantizers through transforms, observer freezing, and
// batch-norm folding during training.
#include "quant/qat.h"

#include "core/error.h"
#include "nn/conv.h"
#include "nn/linear.h"
#include "quant/fold.h"

namespace nabla::quant {
namespace {

std::shared_ptr<FakeQuantize> make_fake_quantize(ObserverKind kind, const ObserverOptions& options,
                                                 const QatConfig& config) {
  return std::make_shared<FakeQuantize>(make_observer(kind, options), config.learnable,
                                        config.grad_factor);
}

bool is_float(const Tensor& x) { return x.defined() && is_floating(x.dtype()); }

}  // namespace

void prepare_qat(nn::Module& model, const QatConfig& config, const Tensor& example_input) {
  NABLA_CHECK(!is_prepared(model), ValueError, "prepare_qat: ", model.type_name(),
              " is already prepared (", *quant_state(model), "); call unprepare first");
  const QuantConfig& quant = config.quant;
  auto points = quantization_points(model, example_input);
  auto layers = model_layers(model);
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
    weighted->set_weight_transform([fq](const Tensor& weight) {
      if (fq->observer_enabled()) fq->observer().reset();
      return (*fq)(weight);
    });
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
  FoldResult result = fuse_conv_bn(model, example_input);
  for (const FusionChain& chain : result.folded) {
    nn::Module* layer = result.graph.nodes[static_cast<size_t>(chain.layer)].module;
    for (auto& [name, child] : layer->named_children()) {
      auto fq = std::dynamic_pointer_cast<FakeQuantize>(child);
      if (!fq) continue;
      if (name == kWeightFakeQuant) {
        // Folding rescaled each output channel of the weight; a frozen (or learned) weight scale
        // would quantize the folded weight with the old ranges. They restart from the new one.
        fq->observer().reset();
        fq->observer().observe(dynamic_cast<nn::WeightedLayer&>(*layer).weight());
        fq->update_qparams();
      } else if (name == kOutputFakeQuant) {
        // The layer's output is now the batch norm's up to a bias: no longer a quantization
        // point (int8 runs the pair as one op), and its range is stale.
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
