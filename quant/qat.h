// Quantization-aware training: fake quantizers on the points prepare observes and on every
// Conv2d/Linear weight, and the schedule that freezes observers and batch-norm statistics.
#pragma once

#include <cstdint>
#include <optional>

#include "nn/module.h"
#include "quant/fake_quantize_module.h"
#include "quant/prepared.h"

namespace nabla::quant {

struct QatConfig {
  // Moving-average ranges for activations, PyTorch's QAT default: they follow the activations
  // as the weights train, where a histogram would keep every early batch.
  QuantConfig quant = {.activation_observer = ObserverKind::moving_average_min_max};
  // LSQ: scales (and affine zero points) become parameters. While a fake quantizer's observer is
  // enabled it overwrites them with the observed range each step, so that learning starts once
  // freeze_observers runs (QatSchedule::observer_freeze_epoch; 1 makes epoch 0 the
  // initialization).
  bool learnable = false;
  std::optional<double> grad_factor = std::nullopt;  // LSQ's gradient scale; nullopt: its default
};

// Attaches a FakeQuantize (config.quant's activation observer, LSQ when learnable) as a child
// kOutputFakeQuant to every quantization point (see quantization_points; with example_input,
// fused chains keep only their last output), applied through an output transform; with
// quantize_input, a kInputFakeQuant on the root applied to its input through an input transform;
// and a kWeightFakeQuant (config.quant's weight scheme, per output channel) on every Conv2d and
// Linear through its weight transform. The weight's observer is reset before each observation,
// so that it sees only the current weight: training then uses the qparams convert computes from
// the final weight. With example_input, a layer a batch norm follows fake-quantizes the weight
// int8 inference will hold, its batch norm folded in: w -> fq(w * f) / f per output channel,
// f = gamma / sqrt(running_var + eps) (as PyTorch's ConvBn QAT modules); the stored weight and
// the batch norm train as in float. Everything trains with any optimizer (LSQ scales are
// parameters()); a model that is already prepared is a ValueError.
void prepare_qat(nn::Module& model, const QatConfig& config = {},
                 const Tensor& example_input = Tensor());

// Every FakeQuantize inside model stops observing and keeps its qparams; fake quantization goes
// on with them (LSQ scales keep learning). on = false enables the observers again.
void freeze_observers(nn::Module& model, bool on = true);

// Freezes the running statistics of every batch norm that follows a conv/linear in a trace of
// model(example_input): from then on training normalizes with them, as int8 inference does, and
// the fold factor stays fixed. No weight changes, so the optimizer's state stays valid. A layer
// prepared without an example input starts fake-quantizing its folded weight (its weight fake
// quantizer re-observes; LSQ scales restart from that range), and its output fake quantizer
// switches off: int8 inference runs it with its batch norm as one op. With fake quantization
// off, the eval output is unchanged up to float rounding. A model not prepared for QAT is a
// ValueError.
void freeze_batch_norm(nn::Module& model, const Tensor& example_input);

// One call per epoch from a training loop: at observer_freeze_epoch freeze_observers, at
// bn_freeze_epoch freeze_batch_norm (nullopt: never). A later epoch (a resumed run) applies what
// earlier epochs would have, once.
struct QatSchedule {
  std::optional<int64_t> observer_freeze_epoch = std::nullopt;
  std::optional<int64_t> bn_freeze_epoch = std::nullopt;

  // What the schedule has applied so far.
  bool observers_frozen = false;
  bool bn_frozen = false;

  void on_epoch_start(nn::Module& model, int64_t epoch, const Tensor& example_input);
};

}  // namespace nabla::quant
