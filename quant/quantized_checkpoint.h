// Saving and loading int8 models: the state dict of a converted (or dynamically quantized) model,
// int8 weights with their float scales, biases and every edge's scale and zero point, in nabla's
// safetensors-layout checkpoints, loaded back into a freshly converted skeleton.
#pragma once

#include <filesystem>

#include "nn/module.h"

namespace nabla::quant {

// The metadata entry that marks a file as an int8 model, and its format's version.
inline constexpr const char* kQuantizedFormatKey = "nabla_quantized";
inline constexpr const char* kQuantizedFormat = "int8-v1";

// model.state_dict() with the marker, written atomically (nn::save).
void save_quantized(const nn::Module& model, const std::filesystem::path& path);

// Loads what save_quantized wrote into `model`: an int8 model of the same architecture (convert or
// quantize_dynamic of the same float model type; its weights and calibration do not matter), then
// refreshes every int8 module (repacks its weights, re-reads its edges), so that it computes
// exactly what the saved model did. A malformed file is an IOError; a file without the marker, or
// whose tensors differ from the model's in name, dtype or shape, a ValueError naming the file and
// the tensors; in both cases nothing is loaded. Values out of range (an edge's zero point, an
// int8 weight of -128) are the int8 modules' errors, and the model keeps its own state.
void load_quantized(nn::Module& model, const std::filesystem::path& path);

}  // namespace nabla::quant
