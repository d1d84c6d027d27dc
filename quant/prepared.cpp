// QuantState, the quantization points of a model, the accessors convert reads, and unprepare.
#include "quant/prepared.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "core/error.h"
#include "nn/dropout.h"
#include "nn/linear.h"
#include "nn/pooling.h"
#include "quant/fake_quantize_module.h"
#include "quant/module_graph.h"

namespace nabla::quant {
namespace {

std::shared_ptr<nn::Module> child(const nn::Module& module, const char* name) {
  for (auto& [child_name, c] : module.named_children()) {
    if (child_name == name) return c;
  }
  return nullptr;
}

const Observer* observer_of(const nn::Module& module, const char* observer_name,
                            const char* fake_quant_name) {
  if (auto observer = std::dynamic_pointer_cast<Observer>(child(module, observer_name))) {
    return observer.get();
  }
  if (auto fq = std::dynamic_pointer_cast<FakeQuantize>(child(module, fake_quant_name))) {
    return &fq->observer();
  }
  return nullptr;
}

std::optional<QParams> qparams_of(const nn::Module& module, const char* observer_name,
                                  const char* fake_quant_name) {
  if (auto fq = std::dynamic_pointer_cast<FakeQuantize>(child(module, fake_quant_name))) {
    if (!fq->observer().has_observed()) return std::nullopt;
    return fq->qparams();
  }
  const Observer* observer = observer_of(module, observer_name, fake_quant_name);
  if (!observer || !observer->has_observed()) return std::nullopt;
  return observer->qparams();
}

}  // namespace

QuantState::QuantState(QuantConfig config, bool qat)
    : Module("QuantState"), config_(std::move(config)), qat_(qat) {}

void QuantState::undo_all() {
  for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) (*it)();
  undo_.clear();
  folded_weights_.clear();
}

std::string QuantState::extra_repr() const {
  std::ostringstream os;
  os << (qat_ ? "qat" : "ptq") << ", activations " << name(config_.activation_observer) << " "
     << config_.activation.scheme << ", weights " << name(config_.weight_observer) << " "
     << config_.weight.scheme;
  return os.str();
}

bool is_quantization_point(const nn::Module& layer) {
  return !dynamic_cast<const nn::Flatten*>(&layer) && !dynamic_cast<const nn::Identity*>(&layer) &&
         !dynamic_cast<const nn::Dropout*>(&layer) && !dynamic_cast<const nn::Dropout2d*>(&layer) &&
         !dynamic_cast<const nn::MaxPool2d*>(&layer) &&
         !dynamic_cast<const nn::AvgPool2d*>(&layer) &&
         !dynamic_cast<const nn::AdaptiveAvgPool2d*>(&layer);
}

std::vector<std::pair<std::string, nn::Module*>> quantization_points(nn::Module& model,
                                                                     const Tensor& example_input) {
  std::set<const nn::Module*> fused_away;
  if (example_input.defined()) {
    ModuleGraph graph = trace(model, example_input);
    for (const FusionChain& chain : fusion_chains(graph)) {
      int64_t last = chain.act >= 0 ? chain.act : chain.bn;
      for (int64_t i : {chain.layer, chain.bn}) {
        if (i >= 0 && i != last) fused_away.insert(graph.nodes[static_cast<size_t>(i)].module);
      }
    }
  }
  std::vector<std::pair<std::string, nn::Module*>> points;
  for (auto& [name, layer] : model_layers(model)) {
    if (is_quantization_point(*layer) && !fused_away.count(layer)) points.emplace_back(name, layer);
  }
  return points;
}

QuantState* quant_state(const nn::Module& root) {
  return std::dynamic_pointer_cast<QuantState>(child(root, kQuantState)).get();
}

bool is_prepared(const nn::Module& root) { return quant_state(root) != nullptr; }

const QuantConfig& config_of(const nn::Module& root) {
  const QuantState* state = quant_state(root);
  NABLA_CHECK(state != nullptr, ValueError, "config_of: ", root.type_name(),
              " was not prepared (call quant::prepare or quant::prepare_qat first)");
  return state->config();
}

const Observer* output_observer(const nn::Module& module) {
  return observer_of(module, kOutputObserver, kOutputFakeQuant);
}

const Observer* input_observer(const nn::Module& root) {
  return observer_of(root, kInputObserver, kInputFakeQuant);
}

std::optional<QParams> output_qparams(const nn::Module& module) {
  return qparams_of(module, kOutputObserver, kOutputFakeQuant);
}

std::optional<QParams> input_qparams(const nn::Module& root) {
  return qparams_of(root, kInputObserver, kInputFakeQuant);
}

std::optional<QParams> weight_qparams(const nn::WeightedLayer& layer) {
  auto fq = std::dynamic_pointer_cast<FakeQuantize>(child(layer, kWeightFakeQuant));
  if (!fq || !fq->observer().has_observed()) return std::nullopt;
  if (!fq->learnable() && fq->observer_enabled()) return std::nullopt;
  return fq->qparams();
}

void unprepare(nn::Module& model) {
  QuantState* state = quant_state(model);
  if (!state) return;
  state->undo_all();
  model.remove_module(kQuantState);
}

}  // namespace nabla::quant
