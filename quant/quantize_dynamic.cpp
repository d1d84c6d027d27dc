// quantize_dynamic and quantize_weight_only: rebuilding Sequentials and ResNets around a
// replacement for each Linear.
#include "quant/quantize_dynamic.h"

#include <functional>

#include "autograd/grad_mode.h"
#include "core/error.h"
#include "core/ops.h"
#include "nn/containers.h"
#include "nn/linear.h"
#include "nn/pooling.h"
#include "quant/quantized_dynamic_linear.h"
#include "quant/quantized_weight.h"

namespace nabla::quant {
namespace {

std::shared_ptr<nn::Module> dynamic_linear(const nn::Linear& linear) {
  const QuantizedWeight q = quantize_weight_per_channel(linear.weight());
  const Tensor bias =
      linear.bias().defined() ? core::contiguous(core::to(linear.bias(), kFloat32)) : Tensor();
  return std::make_shared<DynamicQuantizedLinear>(q.weight, q.scale, bias);
}

using LinearRule = std::function<std::shared_ptr<nn::Module>(const nn::Linear&)>;

// `module` with its Linear layers replaced by `rule`, or null when there is no rule for its type
// (then a child is shared as it is).
std::shared_ptr<nn::Module> rebuild(nn::Module& module, const LinearRule& rule);

std::shared_ptr<nn::Module> rebuild_or_share(const std::shared_ptr<nn::Module>& child,
                                             const LinearRule& rule) {
  std::shared_ptr<nn::Module> rebuilt = rebuild(*child, rule);
  return rebuilt ? rebuilt : child;
}

std::shared_ptr<nn::Module> rebuild(nn::Module& module, const LinearRule& rule) {
  if (auto* linear = dynamic_cast<nn::Linear*>(&module)) return rule(*linear);
  if (auto* seq = dynamic_cast<nn::Sequential*>(&module)) {
    // The Sequential's own list, named as its children (what prepare attached stays out).
    const auto children = seq->named_children();
    auto out = std::make_shared<nn::Sequential>();
    for (size_t i = 0; i < seq->size(); ++i) {
      std::string name = std::to_string(i);
      for (const auto& [n, c] : children)
        if (c == (*seq)[i]) name = n;
      out->push_back(name, rebuild_or_share((*seq)[i], rule));
    }
    return out;
  }
  if (module.type_name() == "ResNet") {
    // ResNet::forward: act(bn1(conv1(x))), the stages, global average pooling, flatten, fc.
    auto out = std::make_shared<nn::Sequential>();
    for (const auto& [name, c] : module.named_children()) {
      if (name == "fc") {
        out->push_back("avgpool", std::make_shared<nn::AdaptiveAvgPool2d>(1));
        out->push_back("flatten", std::make_shared<nn::Flatten>(1));
        out->push_back("fc", rebuild_or_share(c, rule));
      } else if (name == "conv1" || name == "bn1" || name == "act" || name.starts_with("layer")) {
        out->push_back(name, c);
      }
    }
    return out;
  }
  return nullptr;
}

std::shared_ptr<nn::Module> rebuild_model(nn::Module& model, const LinearRule& rule,
                                          const char* op) {
  NoGradGuard no_grad;
  std::shared_ptr<nn::Module> out = rebuild(model, rule);
  NABLA_CHECK(out, ValueError, op, ": no rule for a model of type ", model.type_name(),
              " (Linear, Sequential and its models, and ResNet have one)");
  out->eval();
  return out;
}

}  // namespace

std::shared_ptr<nn::Module> quantize_dynamic(nn::Module& model) {
  return rebuild_model(model, dynamic_linear, "quantize_dynamic");
}

std::shared_ptr<nn::Module> quantize_weight_only(nn::Module& model,
                                                 const WeightOnlyOptions& options) {
  return rebuild_model(
      model,
      [&options](const nn::Linear& linear) -> std::shared_ptr<nn::Module> {
        return std::make_shared<WeightOnlyLinear>(linear.weight(), linear.bias(), options);
      },
      "quantize_weight_only");
}

}  // namespace nabla::quant
