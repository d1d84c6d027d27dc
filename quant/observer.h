// Observer: watches the float tensors that will be quantized during calibration and turns the
// range it saw into quantization parameters. Observers are modules, so that their state (the
// ranges, a histogram) is part of a model's state dict and a calibrated checkpoint keeps it.
#pragma once

#include <string>
#include <utility>

#include "nn/module.h"
#include "quant/qscheme.h"

namespace nabla::quant {

class Observer : public nn::Module {
 public:
  // Records x's statistics and returns x unchanged, so that an observer can sit in a model.
  Tensor forward(const Tensor& x) override;

  // Updates the statistics with x (float32 or float64, any shape; per-channel schemes need the
  // channel axis to exist). Never records autograd history.
  virtual void observe(const Tensor& x) = 0;
  // The range to quantize: float32 min and max, [1] or [C]; +inf and -inf before any data.
  virtual std::pair<Tensor, Tensor> range() const;
  // choose_qparams over range(); a ValueError naming the observer before any data.
  QParams qparams() const;
  // Forgets everything observed.
  virtual void reset();

  bool has_observed() const;
  const QScheme& scheme() const { return scheme_; }
  // Per-channel: the channel count seen (0 before the first observe unless given).
  int64_t channels() const { return min_val_.numel(); }

  // Whether the buffer `name` may take a loaded state's shape: the range of a per-channel
  // observer that has not learned its channel count yet.
  virtual bool resizable(const std::string& name) const;
  // Loads a state dict of this observer's buffers, resizing the resizable ones, whose sizes a
  // fresh observer cannot know before it sees data (Module::load_state_dict insists on equal
  // shapes). Keys must match exactly and other shapes agree; a ValueError lists the differences.
  void load_state(const nn::StateDict& state);

 protected:
  // `channels`: the per-channel size when known in advance (0: set by the first observe).
  Observer(std::string type_name, QScheme scheme, int64_t channels = 0);

  // x checked (defined, floating, channel axis in range, channel count as before) and cast to
  // float32; `op` names the caller.
  Tensor checked_input(const Tensor& x, const char* op) const;
  // x's per-tensor ([1]) or per-channel ([C]) minimum and maximum, float32.
  std::pair<Tensor, Tensor> batch_min_max(const Tensor& x) const;
  // x [..., C at axis, ...] as a contiguous float32 [C, rest] (per-tensor: [1, numel]).
  Tensor rows_by_channel(const Tensor& x) const;
  // Writes the range in place, resizing the buffers on the first per-channel observation, so
  // that handles to them (a parent's state dict) stay valid.
  void set_range(const Tensor& min, const Tensor& max);
  std::string extra_repr() const override;

  QScheme scheme_;
  Tensor min_val_, max_val_;  // float32 [1] or [C]
};

}  // namespace nabla::quant
