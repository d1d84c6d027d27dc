// Reading and writing named tensors in the safetensors layout (an 8-byte little-endian header
// length, a JSON header, raw little-endian data), so that PyTorch's safetensors reads our files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace nabla::nn {

// The format's code for a dtype: "F32", "BF16", "I64", "BOOL", ...
const char* safetensors_dtype_code(DType dtype);

// The same type as module.h's NamedTensors; repeated so that this layer needs only core.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
// The header's "__metadata__" object: free-form string to string.
using SafetensorsMetadata = std::map<std::string, std::string>;

struct SafetensorsFile {
  NamedTensors tensors;  // in the order of their data in the file
  SafetensorsMetadata metadata;
};

// The reader's bound on the JSON header, as in the reference implementation.
inline constexpr uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;

// The whole file in memory: header length, header padded with spaces to a multiple of 8 bytes,
// then the data. Tensors go in order of decreasing element size (stable within a size, so a
// state dict of one dtype keeps its order), which aligns every tensor's data to its element size.
// Tensors may be non-contiguous or on any device. A duplicate or reserved ("__metadata__") name,
// an undefined tensor or a string that is not UTF-8 is a ValueError.
std::vector<uint8_t> serialize_safetensors(const NamedTensors& tensors,
                                           const SafetensorsMetadata& metadata = {});

// Writes the same bytes to `path` atomically: to a temporary file in the same directory, flushed
// and synced, then renamed over `path`. On failure (an IOError naming the file) the temporary
// file is removed and an existing file at `path` is left as it was.
void save_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                      const SafetensorsMetadata& metadata = {});

// Reads and validates a file; anything malformed is an IOError naming the file and the problem.
// Sizes are checked against the file before anything is allocated for them.
SafetensorsFile load_safetensors(const std::filesystem::path& path);

// The same from bytes in memory; `source` names them in error messages.
SafetensorsFile parse_safetensors(std::span<const uint8_t> bytes,
                                  const std::string& source = "<memory>");

}  // namespace nabla::nn
