// FakeQuantize: the module quantization-aware training inserts after weights and activations.
// It owns an observer, keeps the current scale and zero point (buffers, or parameters for LSQ),
// and can switch observation and fake quantization on and off independently.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "nn/module.h"
#include "quant/observer.h"
#include "quant/observer_factory.h"

namespace nabla::quant {

struct FakeQuantizeOptions {
  // PyTorch's QAT default: a moving-average min-max observer.
  ObserverKind observer = ObserverKind::moving_average_min_max;
  ObserverOptions observer_options = {};  // holds the scheme
  // LSQ: scale (and, for affine schemes, zero_point) become parameters that backward trains.
  bool learnable = false;
  // LSQ's gradient scale; nullopt: 1 / sqrt(numel * qmax) of each input.
  std::optional<double> grad_factor = std::nullopt;
};

class FakeQuantize : public nn::Module {
 public:
  explicit FakeQuantize(FakeQuantizeOptions options = {});
  // Around an observer built elsewhere; its scheme is the module's.
  explicit FakeQuantize(std::shared_ptr<Observer> observer, bool learnable = false,
                        std::optional<double> grad_factor = std::nullopt);

  // Observer on: observe x, then take the observer's qparams. Fake quantization on:
  // fake_quantize(x) (fake_quantize_learnable for LSQ), else x unchanged.
  Tensor forward(const Tensor& x) override;

  void enable_observer(bool on = true);
  void enable_fake_quant(bool on = true);
  bool observer_enabled() const;
  bool fake_quant_enabled() const;

  // The qparams forward uses now: scale float32 and the zero point rounded to int64.
  QParams qparams() const;
  // Copies the observer's qparams into scale and zero_point (resizing them for per-channel).
  void update_qparams();

  // Whether the tensor `name` may take a loaded state's shape: scale and zero_point of a
  // per-channel scheme.
  bool resizable(const std::string& name) const;

  Observer& observer() { return *observer_; }
  const QScheme& scheme() const { return observer_->scheme(); }
  bool learnable() const { return learnable_; }
  const Tensor& scale() const { return scale_; }
  const Tensor& zero_point() const { return zero_point_; }

 protected:
  std::string extra_repr() const override;

 private:
  void init();

  std::shared_ptr<Observer> observer_;
  bool learnable_;
  std::optional<double> grad_factor_;
  Tensor scale_, zero_point_;  // [1] or [C]: float32 and int64 buffers, or float32 parameters
  Tensor observer_enabled_, fake_quant_enabled_;  // uint8 [1] buffers, so that checkpoints keep
                                                  // the training phase
};

}  // namespace nabla::quant
