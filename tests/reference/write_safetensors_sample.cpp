// Writes a sample training checkpoint and, beside it, the values it holds as JSON, for
// check_safetensors.py to compare with what the reference safetensors implementation reads.
//   write_safetensors_sample OUT.safetensors OUT.json
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/creation.h"
#include "core/ops.h"
#include "nn/checkpoint.h"

using namespace nabla;

namespace {

// Six values that `dtype` holds exactly, so that the comparison can be exact.
Tensor sample(DType dtype) {
  std::vector<double> values = {0, 1, -2, 3, 4.5, -6};
  if (dtype == kBool) values = {0, 1, 1, 0, 1, 0};
  if (dtype == kUInt8) values = {0, 1, 2, 3, 128, 255};
  if (dtype == kInt8 || dtype == kInt32 || dtype == kInt64) values = {0, 1, -2, 3, 127, -128};
  return from_vector<double>(values, {2, 3}, {.dtype = dtype});
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s OUT.safetensors OUT.json\n", argv[0]);
    return 2;
  }
  nn::Checkpoint checkpoint;
  checkpoint.model = {
      {"layer1.0.conv1.weight", core::view(arange(24), {2, 3, 2, 2})},
      {"layer1.0.bn1.num_batches_tracked", scalar_tensor(7, {.dtype = kInt64})},
      {"transposed", core::transpose(core::view(arange(6, {.dtype = kFloat64}), {2, 3}), 0, 1)},
      {"empty", zeros({0, 3})},
  };
  for (DType dtype :
       {kFloat64, kFloat32, kFloat16, kBFloat16, kInt64, kInt32, kInt8, kUInt8, kBool})
    checkpoint.model.emplace_back(std::string("dtype.") + nn::safetensors_dtype_code(dtype),
                                  sample(dtype));
  checkpoint.groups["optim"] = {{"layer1.0.conv1.weight.momentum", full({2, 3, 2, 2}, 0.25)}};
  checkpoint.state = {{"step", 3}};
  nn::save_checkpoint(argv[1], checkpoint);

  nlohmann::json expected;
  auto describe = [&](const std::string& name, const Tensor& t) {
    expected["tensors"][name] = {
        {"dtype", nn::safetensors_dtype_code(t.dtype())},
        {"shape", std::vector<int64_t>(t.shape().begin(), t.shape().end())},
        {"values", t.to_vector<double>()}};
  };
  for (const auto& [name, t] : checkpoint.model) describe(name, t);
  for (const auto& [name, t] : checkpoint.groups["optim"]) describe("optim." + name, t);
  expected["metadata"] = nn::load_safetensors(argv[1]).metadata;
  std::ofstream(argv[2]) << expected.dump(2) << "\n";
  return 0;
}
