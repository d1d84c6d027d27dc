// prepare: observers and the hooks that feed them, each registered with a way to undo it.
#include "quant/prepare.h"

#include "core/error.h"

namespace nabla::quant {
namespace {

// Registers `observer` as `name` on `module`, and a forward hook that gives it the module's
// input (observe_input) or output while the state's observing flag is on.
void attach(QuantState& state, nn::Module& module, const char* name,
            const std::shared_ptr<Observer>& observer, bool observe_input) {
  module.register_module(name, observer);
  std::shared_ptr<bool> observing = state.observing_flag();
  Observer* raw = observer.get();
  int64_t handle = module.register_forward_hook(
      [observing, raw, observe_input](nn::Module&, const Tensor& input, const Tensor& output) {
        const Tensor& x = observe_input ? input : output;
        // Integer outputs (indices) are no quantization point.
        if (*observing && x.defined() && is_floating(x.dtype())) raw->observe(x);
      });
  nn::Module* target = &module;
  std::string child_name = name;
  state.on_unprepare([target, handle, child_name] {
    target->remove_forward_hook(handle);
    target->remove_module(child_name);
  });
}

}  // namespace

void prepare(nn::Module& model, const QuantConfig& config, const Tensor& example_input) {
  NABLA_CHECK(!is_prepared(model), ValueError, "prepare: ", model.type_name(),
              " is already prepared (", *quant_state(model), "); call unprepare first");
  // The points are found before anything is attached, so that the trace sees the plain model.
  auto points = quantization_points(model, example_input);
  auto state = model.register_module(kQuantState, std::make_shared<QuantState>(config, false));
  for (auto& [name, layer] : points) {
    attach(*state, *layer, kOutputObserver,
           make_observer(config.activation_observer, config.activation), false);
  }
  if (config.quantize_input) {
    attach(*state, model, kInputObserver,
           make_observer(config.activation_observer, config.activation), true);
  }
}

}  // namespace nabla::quant
