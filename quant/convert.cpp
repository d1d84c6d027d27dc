// The converter registry, the generic chain converter (Sequential and the models built on it),
// single layers, and convert itself.
#include "quant/convert.h"

#include <cmath>
#include <limits>
#include <map>
#include <mutex>

#include "autograd/grad_mode.h"
#include "core/creation.h"
#include "core/error.h"
#include "core/ops.h"
#include "nn/activation.h"
#include "nn/containers.h"
#include "nn/conv.h"
#include "nn/dropout.h"
#include "nn/linear.h"
#include "nn/normalization.h"
#include "nn/pooling.h"
#include "quant/fold.h"
#include "quant/quantized_conv.h"
#include "quant/quantized_io.h"
#include "quant/quantized_linear.h"
#include "quant/quantized_pool.h"

namespace nabla::quant {

// convert_resnet.cpp: BasicBlock and ResNet, added by the registry's set-up, which the linker
// cannot drop (a static registrar object in a static library it could).
void add_resnet_converters(std::map<std::string, Converter>& converters);

namespace {

std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

struct Registry {
  std::mutex mutex;
  std::map<std::string, Converter> converters;
};

Converted convert_chain(nn::Module& module, const std::string& name, const EdgeQParams& input,
                        bool float_output, ConvertContext& context);

Tensor float32(const Tensor& t) {
  return t.defined() ? core::contiguous(core::to(t, kFloat32)) : t;
}

// A skipped Conv2d or Linear (ConvertOptions::skip) as a new float layer with its batch norm
// folded in, so that the float model's own modules (and what prepare attached to them) stay out
// of the int8 model: [dequant] -> layer [-> relu] [-> quant at `output`].
std::shared_ptr<nn::Module> float_group(const nn::Module& module, const nn::Module* bn, bool relu,
                                        const EdgeQParams& input,
                                        const std::optional<EdgeQParams>& output) {
  NoGradGuard no_grad;
  const auto* norm = dynamic_cast<const nn::BatchNorm*>(bn);
  std::shared_ptr<nn::Module> layer;
  if (const auto* conv = dynamic_cast<const nn::Conv2d*>(&module)) {
    Tensor weight = conv->weight(), bias = conv->bias();
    if (norm) {
      FoldedConv folded = fold_conv_bn(*conv, *norm);
      weight = folded.weight;
      bias = folded.bias;
    }
    const Conv2dParams& p = conv->params();
    // weight: [out, in / groups, k, k]
    auto copy =
        std::make_shared<nn::Conv2d>(weight.size(1) * p.groups, weight.size(0), weight.size(2),
                                     nn::Conv2dOptions{.stride = p.stride[0],
                                                       .padding = p.padding[0],
                                                       .dilation = p.dilation[0],
                                                       .groups = p.groups,
                                                       .bias = bias.defined()});
    nn::StateDict state{{"weight", float32(weight)}};
    if (bias.defined()) state.emplace_back("bias", float32(bias));
    copy->load_state_dict(state);
    layer = copy;
  } else {
    const auto& linear = dynamic_cast<const nn::Linear&>(module);
    Tensor weight = linear.weight(), bias = linear.bias();
    if (norm) {
      FoldedConv folded = fold_linear_bn(linear, *norm);
      weight = folded.weight;
      bias = folded.bias;
    }
    // weight: [out, in]
    auto copy = std::make_shared<nn::Linear>(weight.size(1), weight.size(0), bias.defined());
    nn::StateDict state{{"weight", float32(weight)}};
    if (bias.defined()) state.emplace_back("bias", float32(bias));
    copy->load_state_dict(state);
    layer = copy;
  }
  auto group = std::make_shared<nn::Sequential>();
  group->push_back("dequant", std::make_shared<Dequantize>(input));
  group->push_back("layer", layer);
  if (relu) group->push_back("relu", std::make_shared<nn::ReLU>());
  if (output) group->push_back("quant", std::make_shared<Quantize>(*output));
  return group;
}

Registry& registry() {
  static Registry* r = [] {
    auto* reg = new Registry;
    for (const char* type : {"Sequential", "SmallCNN", "MLP"})
      reg->converters[type] = convert_chain;
    reg->converters["Conv2d"] = [](nn::Module& m, const std::string& name, const EdgeQParams& in,
                                   bool float_output, ConvertContext& c) -> Converted {
      std::optional<EdgeQParams> out;
      if (!float_output) out = c.output_qparams(m, name);
      return {convert_conv(m, nullptr, false, in, out, c), out};
    };
    reg->converters["Linear"] = [](nn::Module& m, const std::string& name, const EdgeQParams& in,
                                   bool float_output, ConvertContext& c) -> Converted {
      std::optional<EdgeQParams> out;
      if (!float_output) out = c.output_qparams(m, name);
      return {convert_linear(m, nullptr, false, in, out, c), out};
    };
    add_resnet_converters(reg->converters);
    return reg;
  }();
  return *r;
}

bool is_type(const nn::Module& m, const char* type) { return m.type_name() == type; }

// A chain's layers in order with their names: the Sequential's own list, not named_children(),
// which also holds what prepare attached (observers).
std::vector<std::pair<std::string, std::shared_ptr<nn::Module>>> chain_items(
    const nn::Sequential& seq) {
  const auto children = seq.named_children();
  std::vector<std::pair<std::string, std::shared_ptr<nn::Module>>> items;
  for (size_t i = 0; i < seq.size(); ++i) {
    std::string child_name = std::to_string(i);
    for (const auto& [n, c] : children)
      if (c == seq[i]) child_name = n;
    items.emplace_back(child_name, seq[i]);
  }
  return items;
}

bool runs_in_float_tail(const nn::Module& m) {
  return dynamic_cast<const nn::Dropout*>(&m) || is_type(m, "Flatten") || is_type(m, "Identity");
}

// Note [a chain's float output]: the chain's last Conv2d or Linear writes float when only
// layers that need no quantization (Flatten, Dropout, Identity) follow it and its fused batch
// norm and ReLU; otherwise the chain stays uint8 to its end and a Dequantize is appended.
Converted convert_chain(nn::Module& module, const std::string& name, const EdgeQParams& input,
                        bool float_output, ConvertContext& context) {
  auto* seq = dynamic_cast<nn::Sequential*>(&module);
  NABLA_CHECK(seq, ValueError, "convert: '", name, "' (", module.type_name(),
              ") is not a Sequential, so the chain converter cannot read it");
  const auto items = chain_items(*seq);
  const int64_t n = int64_t(items.size());
  // Each Conv2d/Linear's fusion group: [i, end) with its bn and relu.
  auto group_end = [&](int64_t i) {
    int64_t j = i + 1;
    if (j < n && dynamic_cast<const nn::BatchNorm*>(items[size_t(j)].second.get())) ++j;
    if (j < n && is_type(*items[size_t(j)].second, "ReLU")) ++j;
    return j;
  };
  int64_t float_at = -1;
  if (float_output) {
    for (int64_t i = n - 1; i >= 0; --i) {
      const nn::Module& m = *items[size_t(i)].second;
      if (dynamic_cast<const nn::Conv2d*>(&m) || dynamic_cast<const nn::Linear*>(&m)) {
        bool tail = true;
        for (int64_t j = group_end(i); j < n; ++j)
          tail = tail && runs_in_float_tail(*items[size_t(j)].second);
        if (tail) float_at = i;
        break;
      }
    }
  }

  auto out = std::make_shared<nn::Sequential>();
  std::optional<EdgeQParams> edge = input;  // nullopt once the chain has gone float
  for (int64_t i = 0; i < n; ++i) {
    const auto& [child_name, m] = items[size_t(i)];
    const std::string full = join(name, child_name);
    if (!edge) {
      // Only Flatten, Dropout and Identity follow the float layer (Note [a chain's float output]).
      if (!dynamic_cast<const nn::Dropout*>(m.get())) out->push_back(child_name, m);
      continue;
    }
    const bool conv = dynamic_cast<const nn::Conv2d*>(m.get()) != nullptr;
    if (conv || dynamic_cast<const nn::Linear*>(m.get())) {
      const int64_t end = group_end(i);
      const nn::Module* bn = nullptr;
      bool relu = false;
      int64_t last = i;
      for (int64_t j = i + 1; j < end; ++j) {
        const nn::Module* g = items[size_t(j)].second.get();
        if (dynamic_cast<const nn::BatchNorm*>(g)) bn = g;
        if (is_type(*g, "ReLU")) relu = true;
        last = j;
      }
      std::optional<EdgeQParams> output;
      if (i != float_at)
        output = context.output_qparams(*items[size_t(last)].second,
                                        join(name, items[size_t(last)].first));
      if (context.skipped(full))
        out->push_back(child_name, float_group(*m, bn, relu, *edge, output));
      else
        out->push_back(child_name, conv ? convert_conv(*m, bn, relu, *edge, output, context)
                                        : convert_linear(*m, bn, relu, *edge, output, context));
      edge = output;
      i = end - 1;
    } else if (auto* pool = dynamic_cast<const nn::MaxPool2d*>(m.get())) {
      out->push_back(child_name, std::make_shared<QuantizedMaxPool2d>(pool->params()));
    } else if (is_type(*m, "Flatten")) {
      out->push_back(child_name, m);  // a view: uint8 as well as float
    } else if (runs_in_float_tail(*m)) {
      // Dropout and Identity are the identity at inference.
    } else if (is_type(*m, "ReLU") || dynamic_cast<const nn::BatchNorm*>(m.get())) {
      NABLA_CHECK(false, ValueError, "convert: ", m->type_name(), " '", full,
                  "' does not follow a Conv2d or Linear, so it cannot be fused into one");
    } else {
      Converted c = context.convert(*m, full, *edge, false);
      NABLA_ASSERT(c.output.has_value());
      out->push_back(child_name, c.module);
      edge = c.output;
    }
  }
  if (float_output && edge) {
    out->push_back("dequant", std::make_shared<Dequantize>(*edge));
    edge = std::nullopt;
  }
  return {out, edge};
}

}  // namespace

void register_converter(const std::string& type_name, Converter converter) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  r.converters[type_name] = std::move(converter);
}

bool has_converter(const std::string& type_name) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  return r.converters.count(type_name) > 0;
}

Converted ConvertContext::convert(nn::Module& module, const std::string& name,
                                  const EdgeQParams& input, bool float_output) {
  Converter converter;
  {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    auto it = r.converters.find(module.type_name());
    if (it != r.converters.end()) converter = it->second;
  }
  NABLA_CHECK(converter, ValueError, "convert: no converter for module type '", module.type_name(),
              "' (at '", name.empty() ? "<model>" : name,
              "'); register one with quant::register_converter");
  Converted c = converter(module, name, input, float_output, *this);
  NABLA_CHECK(c.module && c.output.has_value() != float_output, ValueError,
              "convert: the converter of '", module.type_name(), "' (at '", name, "') returned ",
              c.module ? (c.output ? "uint8" : "float") : "no module", " where ",
              float_output ? "float" : "uint8", " output was asked for");
  return c;
}

EdgeQParams ConvertContext::output_qparams(const nn::Module& module,
                                           const std::string& name) const {
  std::optional<QParams> q = source_.output ? source_.output(module) : std::nullopt;
  NABLA_CHECK(q.has_value(), ValueError, "convert: no output qparams for '", name, "' (",
              module.type_name(), "); prepare and calibrate the model first");
  return EdgeQParams::from(*q, "convert");
}

bool ConvertContext::skipped(const std::string& name) {
  if (!options_.skip.count(name)) return false;
  reached_.insert(name);
  return true;
}

std::vector<std::string> ConvertContext::unreached_skips() const {
  std::vector<std::string> out;
  for (const std::string& name : options_.skip)
    if (!reached_.count(name)) out.push_back(name);
  return out;
}

QuantizedWeight ConvertContext::quantize_weight(const nn::WeightedLayer& layer,
                                                const Tensor& weight, bool folded) const {
  std::optional<QParams> q = source_.weight ? source_.weight(layer, folded) : std::nullopt;
  if (q) return quantize_weight_with(weight, *q, "convert");
  if (options_.per_tensor_weights) {
    double max_abs = 0;
    for (float w : float32(weight).to_vector<float>())
      max_abs = std::max(max_abs, double(std::abs(w)));
    const double scale =
        max_abs > 0 ? max_abs / 127 : double(std::numeric_limits<float>::epsilon());
    const QParams per_tensor{
        .scale = full({1}, scale),
        .zero_point = zeros({1}, TensorOptions{.dtype = kInt64}),
        .scheme = {.dtype = QDType::int8, .mode = QMode::symmetric, .narrow_range = true}};
    return quantize_weight_with(weight, per_tensor, "convert");
  }
  return quantize_weight_per_channel(weight);
}

std::shared_ptr<nn::Module> convert_conv(const nn::Module& module, const nn::Module* bn, bool relu,
                                         const EdgeQParams& input,
                                         std::optional<EdgeQParams> output,
                                         const ConvertContext& context) {
  const auto* conv = dynamic_cast<const nn::Conv2d*>(&module);
  NABLA_CHECK(conv, ValueError, "convert_conv: expected a Conv2d, got ", module.type_name());
  NoGradGuard no_grad;
  Tensor weight = conv->weight(), bias = conv->bias();
  if (bn) {
    const auto* norm = dynamic_cast<const nn::BatchNorm*>(bn);
    NABLA_CHECK(norm, ValueError, "convert_conv: expected a batch norm, got ", bn->type_name());
    FoldedConv folded = fold_conv_bn(*conv, *norm);
    weight = folded.weight;
    bias = folded.bias;
  }
  const QuantizedWeight q = context.quantize_weight(*conv, weight, bn != nullptr);
  return std::make_shared<QuantizedConv2d>(q.weight, q.scale, float32(bias), conv->params(), input,
                                           output, relu);
}

std::shared_ptr<nn::Module> convert_linear(const nn::Module& module, const nn::Module* bn,
                                           bool relu, const EdgeQParams& input,
                                           std::optional<EdgeQParams> output,
                                           const ConvertContext& context) {
  const auto* linear = dynamic_cast<const nn::Linear*>(&module);
  NABLA_CHECK(linear, ValueError, "convert_linear: expected a Linear, got ", module.type_name());
  NoGradGuard no_grad;
  Tensor weight = linear->weight(), bias = linear->bias();
  if (bn) {
    const auto* norm = dynamic_cast<const nn::BatchNorm*>(bn);
    NABLA_CHECK(norm, ValueError, "convert_linear: expected a batch norm, got ", bn->type_name());
    FoldedConv folded = fold_linear_bn(*linear, *norm);
    weight = folded.weight;
    bias = folded.bias;
  }
  const QuantizedWeight q = context.quantize_weight(*linear, weight, bn != nullptr);
  return std::make_shared<QuantizedLinear>(q.weight, q.scale, float32(bias), input, output, relu);
}

std::shared_ptr<nn::Module> convert(nn::Module& prepared_model, const QParamsSource& source) {
  return convert(prepared_model, source, ConvertOptions{});
}

std::shared_ptr<nn::Module> convert(nn::Module& prepared_model, const QParamsSource& source,
                                    const ConvertOptions& options) {
  std::optional<QParams> q = source.input ? source.input(prepared_model) : std::nullopt;
  NABLA_CHECK(q.has_value(), ValueError,
              "convert: the model's input has no qparams; prepare and calibrate the model first");
  const EdgeQParams input = EdgeQParams::from(*q, "convert");
  ConvertContext context(source, options);
  NoGradGuard no_grad;
  Converted body = context.convert(prepared_model, "", input, true);
  const std::vector<std::string> unreached = context.unreached_skips();
  NABLA_CHECK(unreached.empty(), ValueError, "convert: cannot keep '",
              unreached.empty() ? "" : unreached.front(),
              "' in float: it is not a Conv2d or Linear of a Sequential, SmallCNN or MLP chain of "
              "the model (",
              unreached.size(), " such name(s) in ConvertOptions::skip)");
  auto model = std::make_shared<nn::Sequential>();
  model->push_back("quant", std::make_shared<Quantize>(input));
  model->push_back("model", body.module);
  model->eval();
  return model;
}

QParamsSource prepared_qparams(const nn::Module& prepared_model) {
  const QuantState* state = quant_state(prepared_model);
  NABLA_CHECK(state, ValueError, "prepared_qparams: ", prepared_model.type_name(),
              " is not prepared");
  return {.output = [](const nn::Module& m) { return output_qparams(m); },
          .input = [](const nn::Module& root) { return input_qparams(root); },
          .weight = [state](const nn::WeightedLayer& layer, bool folded) -> std::optional<QParams> {
            if (state->weight_folded(layer) != folded) return std::nullopt;
            return weight_qparams(layer);
          }};
}

std::shared_ptr<nn::Module> convert(nn::Module& prepared_model) {
  return convert(prepared_model, ConvertOptions{});
}

std::shared_ptr<nn::Module> convert(nn::Module& prepared_model, const ConvertOptions& options) {
  NABLA_CHECK(is_prepared(prepared_model), ValueError,
              "convert: the model is not prepared; run prepare (or prepare_qat) and calibrate "
              "first, or pass a QParamsSource");
  return convert(prepared_model, prepared_qparams(prepared_model), options);
}

}  // namespace nabla::quant
