// save_quantized and load_quantized.
#include "quant/quantized_checkpoint.h"

#include <map>
#include <sstream>

#include "core/error.h"
#include "core/ops.h"
#include "nn/checkpoint.h"
#include "nn/safetensors.h"
#include "quant/quantized_module.h"

namespace nabla::quant {
namespace {

void refresh_all(nn::Module& model) {
  model.apply([](nn::Module& m) {
    if (auto* q = dynamic_cast<QuantizedModule*>(&m)) q->refresh();
  });
}

}  // namespace

void save_quantized(const nn::Module& model, const std::filesystem::path& path) {
  nn::save(model, path, {{kQuantizedFormatKey, kQuantizedFormat}});
}

void load_quantized(nn::Module& model, const std::filesystem::path& path) {
  nn::SafetensorsFile file = nn::load_safetensors(path);
  const auto marker = file.metadata.find(kQuantizedFormatKey);
  NABLA_CHECK(marker != file.metadata.end() && marker->second == kQuantizedFormat, ValueError,
              "load_quantized: ", path.string(), " is not an int8 model (metadata '",
              kQuantizedFormatKey, "' is ",
              marker == file.metadata.end() ? std::string("missing") : "'" + marker->second + "'",
              ", expected '", kQuantizedFormat, "')");
  const nn::StateDict saved = nn::checkpoint_from_safetensors(file, path.string()).model;

  // Names, dtypes and shapes, all checked before anything is copied: load_state_dict would
  // convert a float tensor into an int8 buffer without a word.
  std::map<std::string, Tensor> expected;
  for (const auto& [name, t] : model.state_dict()) expected[name] = t;
  std::ostringstream problems;
  int64_t count = 0;
  for (const auto& [name, t] : saved) {
    auto it = expected.find(name);
    if (it == expected.end()) {
      problems << (count++ ? "; " : "") << "unexpected '" << name << "'";
      continue;
    }
    if (it->second.dtype() != t.dtype() || it->second.shape() != t.shape())
      problems << (count++ ? "; " : "") << "'" << name << "' is " << nabla::name(t.dtype()) << " "
               << t.shape() << " in the file but " << nabla::name(it->second.dtype()) << " "
               << it->second.shape() << " in the model";
    expected.erase(it);
  }
  for (const auto& [name, t] : expected)
    problems << (count++ ? "; " : "") << "missing '" << name << "'";
  NABLA_CHECK(count == 0, ValueError, "load_quantized: ", path.string(),
              " does not match the model: ", problems.str());

  // Values only the int8 modules can judge (a zero point outside its range, a weight of -128)
  // show when they re-read their buffers: on such an error the model gets its own state back.
  nn::StateDict before;
  for (const auto& [name, t] : model.state_dict()) before.emplace_back(name, core::clone(t));
  model.load_state_dict(saved);
  try {
    refresh_all(model);
  } catch (...) {
    model.load_state_dict(before);
    refresh_all(model);
    throw;
  }
}

}  // namespace nabla::quant
