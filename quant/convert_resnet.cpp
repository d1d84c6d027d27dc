// Converters for nabla's ResNets: BasicBlock (conv1+bn1+relu fused, conv2+bn2, the shortcut and a
// QuantizedAdd with the final ReLU) and ResNet (the stem, the stages, uint8 global average
// pooling and an int8 fc with float logits).
#include <map>

#include "core/error.h"
#include "nn/containers.h"
#include "nn/conv.h"
#include "nn/linear.h"
#include "nn/normalization.h"
#include "quant/convert.h"
#include "quant/quantized_block.h"
#include "quant/quantized_io.h"
#include "quant/quantized_pool.h"

namespace nabla::quant {
namespace {

std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

// The child `name` of `parent` as a T; a ValueError naming both when it is missing or of
// another type.
template <class T>
T& child(nn::Module& parent, const std::string& parent_name, const std::string& name) {
  for (const auto& [n, c] : parent.named_children())
    if (n == name) {
      auto* typed = dynamic_cast<T*>(c.get());
      NABLA_CHECK(typed, ValueError, "convert: '", join(parent_name, name), "' in ",
                  parent.type_name(), " has type ", c->type_name(),
                  ", which its converter cannot read");
      return *typed;
    }
  NABLA_CHECK(false, ValueError, "convert: ", parent.type_name(), " '", parent_name,
              "' has no child '", name, "'");
  throw;  // unreachable
}

bool has_child(const nn::Module& parent, const std::string& name) {
  for (const auto& [n, c] : parent.named_children())
    if (n == name) return true;
  return false;
}

void check_relu(const nn::Module& act, const std::string& name) {
  NABLA_CHECK(act.type_name() == "ReLU", ValueError, "convert: '", name, "' is ", act.type_name(),
              "; int8 blocks fuse only ReLU");
}

// A uint8 part that must return float: itself, then a Dequantize.
Converted to_float(std::shared_ptr<nn::Module> part, const EdgeQParams& edge) {
  auto seq = std::make_shared<nn::Sequential>();
  seq->push_back("block", std::move(part));
  seq->push_back("dequant", std::make_shared<Dequantize>(edge));
  return {seq, std::nullopt};
}

Converted convert_basic_block(nn::Module& block, const std::string& name, const EdgeQParams& input,
                              bool float_output, ConvertContext& context) {
  auto& conv1 = child<nn::Conv2d>(block, name, "conv1");
  auto& bn1 = child<nn::BatchNorm>(block, name, "bn1");
  auto& act1 = child<nn::Module>(block, name, "act1");
  auto& conv2 = child<nn::Conv2d>(block, name, "conv2");
  auto& bn2 = child<nn::BatchNorm>(block, name, "bn2");
  auto& act2 = child<nn::Module>(block, name, "act2");
  check_relu(act1, join(name, "act1"));
  check_relu(act2, join(name, "act2"));

  // x -> conv1+bn1+relu -> conv2+bn2 (before the residual: what bn2's observer saw)
  const EdgeQParams e1 = context.output_qparams(act1, join(name, "act1"));
  auto q1 = std::dynamic_pointer_cast<QuantizedConv2d>(
      convert_conv(conv1, &bn1, true, input, e1, context));
  const EdgeQParams e2 = context.output_qparams(bn2, join(name, "bn2"));
  auto q2 =
      std::dynamic_pointer_cast<QuantizedConv2d>(convert_conv(conv2, &bn2, false, e1, e2, context));

  std::shared_ptr<QuantizedConv2d> projection;
  EdgeQParams shortcut = input;
  if (has_child(block, "shortcut")) {
    auto& seq = child<nn::Sequential>(block, name, "shortcut");
    NABLA_CHECK(seq.size() == 2 && dynamic_cast<nn::Conv2d*>(seq[0].get()) &&
                    dynamic_cast<nn::BatchNorm*>(seq[1].get()),
                ValueError, "convert: '", join(name, "shortcut"),
                "' must be a Conv2d and a batch norm");
    shortcut = context.output_qparams(*seq[1], join(name, "shortcut.1"));
    projection = std::dynamic_pointer_cast<QuantizedConv2d>(
        convert_conv(*seq[0], seq[1].get(), false, input, shortcut, context));
  }
  const int64_t stride = conv1.params().stride[0];
  const int64_t in_channels = conv1.weight().size(1) * conv1.params().groups;
  const int64_t pad_channels = projection ? 0 : conv2.weight().size(0) - in_channels;
  const EdgeQParams out = context.output_qparams(act2, join(name, "act2"));
  auto add = std::make_shared<QuantizedAdd>(e2, shortcut, out, true);
  auto q = std::make_shared<QuantizedBasicBlock>(q1, q2, projection, add, stride, pad_channels);
  if (float_output) return to_float(q, out);
  return {q, out};
}

Converted convert_resnet(nn::Module& resnet, const std::string& name, const EdgeQParams& input,
                         bool float_output, ConvertContext& context) {
  auto& conv1 = child<nn::Conv2d>(resnet, name, "conv1");
  auto& bn1 = child<nn::BatchNorm>(resnet, name, "bn1");
  auto& act = child<nn::Module>(resnet, name, "act");
  auto& fc = child<nn::Linear>(resnet, name, "fc");
  check_relu(act, join(name, "act"));

  auto out = std::make_shared<nn::Sequential>();
  // x: [N, C, S, S] -> [N, w0, S, S]
  EdgeQParams edge = context.output_qparams(act, join(name, "act"));
  out->push_back("conv1", convert_conv(conv1, &bn1, true, input, edge, context));
  // -> [N, w_last, S / 2^(stages - 1), ...]
  for (const auto& [n, c] : resnet.named_children()) {
    if (!n.starts_with("layer")) continue;
    Converted stage = context.convert(*c, join(name, n), edge, false);
    out->push_back(n, stage.module);
    edge = *stage.output;
  }
  // -> [N, w_last, 1, 1] -> [N, w_last]: the pooled features keep the last block's qparams.
  out->push_back("avgpool", std::make_shared<QuantizedGlobalAvgPool2d>());
  out->push_back("flatten", std::make_shared<nn::Flatten>(1));
  // -> [N, classes]
  std::optional<EdgeQParams> logits;
  if (!float_output) logits = context.output_qparams(fc, join(name, "fc"));
  out->push_back("fc", convert_linear(fc, nullptr, false, edge, logits, context));
  return {out, logits};
}

}  // namespace

void add_resnet_converters(std::map<std::string, Converter>& converters) {
  converters["BasicBlock"] = convert_basic_block;
  converters["ResNet"] = convert_resnet;
}

}  // namespace nabla::quant
