// convert: a calibrated float model to an int8 one. Converters keyed by module type rebuild each
// part as int8 modules that pass uint8 tensors, every edge's scale and zero point fixed from the
// calibration; batch norm is folded into the convolution before it, ReLU fused into the product.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "nn/module.h"
#include "nn/weighted_layer.h"
#include "quant/prepared.h"
#include "quant/quantized_module.h"
#include "quant/quantized_weight.h"

namespace nabla::quant {

// Where convert finds the quantization of each edge and weight: by default, what prepare and
// calibrate recorded; tests and tools may supply their own.
struct QParamsSource {
  // The qparams of a module's output (per-tensor); nullopt when it was not observed.
  std::function<std::optional<QParams>(const nn::Module& module)> output;
  // The qparams of the model's input.
  std::function<std::optional<QParams>(const nn::Module& root)> input;
  // A layer's weight qparams from QAT, for its int8 weight: the stored one, or with folded true
  // the one with its batch norm folded in. nullopt or unset: per-channel symmetric from that
  // float weight.
  std::function<std::optional<QParams>(const nn::WeightedLayer& layer, bool folded)> weight;
};

// Mixed precision: what convert leaves in float.
struct ConvertOptions {
  // Conv2d and Linear layers, by their dotted names in the float model ("conv1", "layer1.0.conv1"
  // is not reached: only chains, that is Sequential, SmallCNN and MLP parts, honour it), that
  // stay float: each becomes Dequantize -> the float layer (its batch norm folded in) [-> ReLU]
  // -> Quantize at its observed output qparams, so that the int8 layers around it see the same
  // edges as without the skip. A name that convert never reaches is a ValueError.
  std::set<std::string> skip = {};
  // One symmetric scale per weight tensor (max |w| / 127) instead of one per output channel, for
  // the layers without QAT-learned weight qparams: coarser, offered to compare the two.
  bool per_tensor_weights = false;
};

class ConvertContext;

// A part's int8 replacement and the qparams of its uint8 output (nullopt: it returns float).
struct Converted {
  std::shared_ptr<nn::Module> module;
  std::optional<EdgeQParams> output;
};

// Converts `module` (called `name` in the model, for messages) whose input arrives as uint8 at
// `input`. With float_output the result must return float (the model's last part), otherwise
// uint8.
using Converter =
    std::function<Converted(nn::Module& module, const std::string& name, const EdgeQParams& input,
                            bool float_output, ConvertContext& context)>;

// Registers (or replaces) the converter for modules whose type_name() is `type_name`: how a user's
// own block types join convert. Built in: Sequential, SmallCNN, MLP (a chain of layers),
// BasicBlock and ResNet.
void register_converter(const std::string& type_name, Converter converter);
bool has_converter(const std::string& type_name);

class ConvertContext {
 public:
  explicit ConvertContext(QParamsSource source, ConvertOptions options = {})
      : source_(std::move(source)), options_(std::move(options)) {}

  // The registered converter of module's type; a ValueError naming the type and `name` when none.
  Converted convert(nn::Module& module, const std::string& name, const EdgeQParams& input,
                    bool float_output);
  // The observed output qparams of `module` as a uint8 edge; a ValueError naming it when missing.
  EdgeQParams output_qparams(const nn::Module& module, const std::string& name) const;
  // `layer`'s int8 weight from `weight`, the stored one or (folded) with its batch norm folded
  // in: with the source's QAT weight qparams for it when there are some, else per-channel
  // symmetric.
  QuantizedWeight quantize_weight(const nn::WeightedLayer& layer, const Tensor& weight,
                                  bool folded) const;
  const QParamsSource& source() const { return source_; }
  // Whether the layer called `name` stays float (ConvertOptions::skip); records that the name was
  // reached.
  bool skipped(const std::string& name);
  // The skip names no converter asked about.
  std::vector<std::string> unreached_skips() const;

 private:
  QParamsSource source_;
  ConvertOptions options_;
  std::set<std::string> reached_;
};

// The int8 model: a Quantize at the model input's qparams, then `model` converted, returning
// float logits. prepared_model must be in eval mode's state (its batch norms' running statistics
// are folded) and calibrated: every edge needs qparams from `source`.
std::shared_ptr<nn::Module> convert(nn::Module& prepared_model, const QParamsSource& source);
// The same with some layers left float (mixed precision).
std::shared_ptr<nn::Module> convert(nn::Module& prepared_model, const QParamsSource& source,
                                    const ConvertOptions& options);
// The same with what prepare (or prepare_qat) and calibrate recorded: output_qparams,
// input_qparams and weight_qparams of quant/prepared.h. A ValueError for a model not prepared.
std::shared_ptr<nn::Module> convert(nn::Module& prepared_model);
std::shared_ptr<nn::Module> convert(nn::Module& prepared_model, const ConvertOptions& options);
// That source for a prepared model; a layer's weight qparams count for the weight its fake
// quantizer saw (folded or not).
QParamsSource prepared_qparams(const nn::Module& prepared_model);

// The converters' common pieces, for users writing their own.
// conv [+ bn] [+ relu] as one QuantizedConv2d: bn folded, output at `output` (nullopt: float).
std::shared_ptr<nn::Module> convert_conv(const nn::Module& conv, const nn::Module* bn, bool relu,
                                         const EdgeQParams& input,
                                         std::optional<EdgeQParams> output,
                                         const ConvertContext& context);
// linear [+ bn (BatchNorm1d over features)] [+ relu] as one QuantizedLinear.
std::shared_ptr<nn::Module> convert_linear(const nn::Module& linear, const nn::Module* bn,
                                           bool relu, const EdgeQParams& input,
                                           std::optional<EdgeQParams> output,
                                           const ConvertContext& context);

}  // namespace nabla::quant
