// What prepare (PTQ) and prepare_qat attach to a model, and how convert and reports read it: the
// configuration, the quantization points, their observers or fake quantizers, and unprepare.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "nn/module.h"
#include "nn/weighted_layer.h"
#include "quant/observer.h"
#include "quant/observer_factory.h"

namespace nabla::quant {

// The children prepare and prepare_qat register, so that their state is in the state dict under
// these names ("layer1.0.conv1.output_observer.min_val").
inline constexpr const char* kOutputObserver = "output_observer";     // PTQ, on each point
inline constexpr const char* kInputObserver = "input_observer";       // PTQ, on the root
inline constexpr const char* kOutputFakeQuant = "output_fake_quant";  // QAT, on each point
inline constexpr const char* kInputFakeQuant = "input_fake_quant";    // QAT, on the root
inline constexpr const char* kWeightFakeQuant = "weight_fake_quant";  // QAT, on Conv2d/Linear
inline constexpr const char* kQuantState = "quant_state";             // both, on the root

struct QuantConfig {
  // Activations: uint8 affine with reduce_range, because the AVX2 int8 kernels (no VNNI) add
  // pairs of u8 * s8 products in int16, which saturates unless activations have 7 bits. The
  // histogram observer clips far outliers where that lowers the expected error.
  ObserverKind activation_observer = ObserverKind::histogram;
  ObserverOptions activation = {
      .scheme = {.dtype = QDType::uint8, .mode = QMode::affine, .reduce_range = true}};
  // Weights: int8 symmetric per output channel (axis 0 of Conv2d's and Linear's weights), so the
  // int8 kernels need no weight zero point, in the narrow range [-127, 127] the kernels take, so
  // that QAT's fake quantization rounds exactly as convert will; min-max, since every weight
  // value is known.
  ObserverKind weight_observer = ObserverKind::min_max;
  ObserverOptions weight = {.scheme = {.dtype = QDType::int8,
                                       .mode = QMode::symmetric,
                                       .channel_axis = 0,
                                       .narrow_range = true}};
  // Observe (QAT: fake-quantize) the model's input, which the first int8 layer quantizes.
  bool quantize_input = true;
};

// The module prepare leaves on the root (as kQuantState): the configuration, whether
// observation is on, and how to undo what prepare did. It holds no tensors.
class QuantState : public nn::Module {
 public:
  QuantState(QuantConfig config, bool qat);

  const QuantConfig& config() const { return config_; }
  bool qat() const { return qat_; }
  // PTQ observers record only while this is on (calibrate turns it on).
  bool observing() const { return *observing_; }
  void set_observing(bool on) { *observing_ = on; }
  // The flag the observers' hooks read.
  const std::shared_ptr<bool>& observing_flag() const { return observing_; }
  // Something unprepare runs, last added first (removing a hook, a child, a transform).
  void on_unprepare(std::function<void()> undo) { undo_.push_back(std::move(undo)); }
  void undo_all();
  // QAT layers whose weight fake quantizer sees the weight with its batch norm folded in (what
  // int8 inference holds), so that convert may use its qparams for the folded weight.
  void mark_weight_folded(const nn::Module& layer) { folded_weights_.insert(&layer); }
  bool weight_folded(const nn::Module& layer) const { return folded_weights_.count(&layer) > 0; }

 protected:
  std::string extra_repr() const override;

 private:
  QuantConfig config_;
  bool qat_;
  std::shared_ptr<bool> observing_ = std::make_shared<bool>(false);
  std::vector<std::function<void()>> undo_;
  std::set<const nn::Module*> folded_weights_;
};

// Whether a layer's output is a quantization point: everything but the modules whose output
// keeps its input's quantization (Flatten, Identity, Dropout, Dropout2d, MaxPool2d, AvgPool2d,
// AdaptiveAvgPool2d: shape-only, order-preserving or averaging, as PyTorch's int8 pooling keeps
// its input's qparams).
bool is_quantization_point(const nn::Module& layer);

// The model's layers (see is_layer) that are quantization points, in named_modules order. With
// an example input, a layer whose output only feeds the rest of its fusion chain (a conv before
// its batch norm, a batch norm before its ReLU) is left out: int8 inference fuses the chain and
// quantizes only its last output.
std::vector<std::pair<std::string, nn::Module*>> quantization_points(
    nn::Module& model, const Tensor& example_input = Tensor());

// The root's QuantState, null when the model was not prepared.
QuantState* quant_state(const nn::Module& root);
bool is_prepared(const nn::Module& root);
// The configuration prepare or prepare_qat used; a ValueError when the model was not prepared.
const QuantConfig& config_of(const nn::Module& root);

// The observer of a point's output (PTQ's output_observer, or the observer inside QAT's
// output_fake_quant); null when the module is not a point.
const Observer* output_observer(const nn::Module& module);
// The observer of the model's input, on the root; null when there is none.
const Observer* input_observer(const nn::Module& root);
// The qparams for a point's output or the model's input: the observer's, or under QAT the fake
// quantizer's current ones (LSQ's learned scale). nullopt when there is no observer or it has
// seen no data.
std::optional<QParams> output_qparams(const nn::Module& module);
std::optional<QParams> input_qparams(const nn::Module& root);
// QAT's fake quantizer on the layer's weight: its qparams when they are fixed (observer frozen)
// or learned (LSQ). nullopt without one (PTQ), or while its observer still follows the weight
// (each forward observes the current weight): then, like PTQ, convert computes them from the
// final weight, which the last optimizer step changed after the last forward.
std::optional<QParams> weight_qparams(const nn::WeightedLayer& layer);

// Removes everything prepare or prepare_qat attached: observers, fake quantizers, hooks,
// transforms and the QuantState. The model computes as before preparing (folded batch norms
// stay folded). Nothing happens to a model that was not prepared.
void unprepare(nn::Module& model);

}  // namespace nabla::quant
