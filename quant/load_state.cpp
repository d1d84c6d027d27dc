// resize_quant_state: per-channel quantization state takes its sizes from the checkpoint.
#include "quant/load_state.h"

#include <map>

#include "core/ops.h"
#include "quant/fake_quantize_module.h"
#include "quant/observer.h"

namespace nabla::quant {

void resize_quant_state(nn::Module& model, const nn::StateDict& state) {
  std::map<std::string, Tensor> given(state.begin(), state.end());
  for (auto& [prefix, module] : model.named_modules()) {
    auto* observer = dynamic_cast<Observer*>(module);
    auto* fake_quantize = dynamic_cast<FakeQuantize*>(module);
    if (!observer && !fake_quantize) continue;
    std::string base = prefix.empty() ? "" : prefix + ".";
    nn::NamedTensors own = module->named_parameters(/*recurse=*/false);
    nn::NamedTensors buffers = module->named_buffers(/*recurse=*/false);
    own.insert(own.end(), buffers.begin(), buffers.end());
    for (const auto& [name, tensor] : own) {
      auto it = given.find(base + name);
      if (it == given.end() || it->second.shape() == tensor.shape()) continue;
      // Only state whose size comes from data; any other mismatch is left for the load to report.
      if (observer ? !observer->resizable(name) : !fake_quantize->resizable(name)) continue;
      core::set_data(
          tensor, empty(it->second.shape(), {.dtype = tensor.dtype(), .device = tensor.device()}));
    }
  }
}

}  // namespace nabla::quant
