// Fuzz target for the safetensors reader and the checkpoint split: any bytes either load or throw
// nabla::Error, and whatever loads is written again and reads back the same.
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "nn/checkpoint.h"
#include "nn/safetensors.h"

namespace {

using nabla::Tensor;

bool same_bytes(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  size_t nbytes = static_cast<size_t>(a.numel()) * nabla::itemsize(a.dtype());
  return nbytes == 0 || std::memcmp(a.raw_data(), b.raw_data(), nbytes) == 0;
}

// The writer may reorder tensors (larger elements first), so compare by name.
bool same(const nabla::nn::SafetensorsFile& a, const nabla::nn::SafetensorsFile& b) {
  if (a.metadata != b.metadata || a.tensors.size() != b.tensors.size()) return false;
  std::map<std::string, Tensor> by_name(b.tensors.begin(), b.tensors.end());
  for (const auto& [name, t] : a.tensors) {
    auto it = by_name.find(name);
    if (it == by_name.end() || !same_bytes(t, it->second)) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nabla::nn::SafetensorsFile file;
  try {
    file = nabla::nn::parse_safetensors({data, size}, "fuzz input");
  } catch (const nabla::Error&) {
    return 0;
  }
  // A file that loaded must write and load again unchanged; a failure here is a bug, so no
  // exception is caught and a mismatch aborts.
  std::vector<uint8_t> rewritten = nabla::nn::serialize_safetensors(file.tensors, file.metadata);
  if (!same(file, nabla::nn::parse_safetensors(rewritten, "rewritten fuzz input")))
    __builtin_trap();
  try {
    nabla::nn::checkpoint_from_safetensors(std::move(file), "fuzz input");
  } catch (const nabla::Error&) {
  }
  return 0;
}
