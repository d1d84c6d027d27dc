// The macro space's parameters, their reading back, and the network they describe.
#include "hpo/nas/macro_space.h"

#include <cmath>
#include <sstream>

#include "autograd/ops/views.h"
#include "core/error.h"
#include "nn/containers.h"
#include "nn/linear.h"
#include "nn/pooling.h"

namespace nabla::hpo::nas {
namespace {

// "s<stage>.<field>", appended piece by piece: GCC 12 warns (-Wrestrict, wrongly) on the
// operator+ chain.
std::string key(size_t stage, const char* field) {
  std::string k = "s";
  k += std::to_string(stage);
  k += '.';
  k += field;
  return k;
}

template <class T>
T param(const std::map<std::string, ParamValue>& params, const std::string& name) {
  auto it = params.find(name);
  NABLA_CHECK(it != params.end(), ValueError, "nas::architecture_from_params: no parameter '", name,
              "'");
  NABLA_CHECK(std::holds_alternative<T>(it->second), ValueError,
              "nas::architecture_from_params: parameter '", name, "' has the wrong type");
  return std::get<T>(it->second);
}

}  // namespace

void MacroSpace::validate() const {
  NABLA_CHECK(min_stages >= 1 && min_stages <= max_stages, ValueError,
              "nas::MacroSpace: stages must satisfy 1 <= min_stages <= max_stages, got ",
              min_stages, " and ", max_stages);
  NABLA_CHECK(max_blocks >= 1, ValueError, "nas::MacroSpace: max_blocks must be >= 1, got ",
              max_blocks);
  NABLA_CHECK(base_width >= 1, ValueError, "nas::MacroSpace: base_width must be >= 1, got ",
              base_width);
  NABLA_CHECK(
      !width_multipliers.empty() && !kernels.empty() && !block_types.empty() && !expansions.empty(),
      ValueError, "nas::MacroSpace: every list of choices needs at least one entry");
  for (double m : width_multipliers)
    NABLA_CHECK(std::isfinite(m) && m > 0, ValueError,
                "nas::MacroSpace: width multipliers must be positive, got ", m);
  for (int64_t k : kernels)
    NABLA_CHECK(k >= 1 && k % 2 == 1, ValueError, "nas::MacroSpace: kernels must be odd, got ", k);
  for (int64_t e : expansions)
    NABLA_CHECK(e >= 1, ValueError, "nas::MacroSpace: expansions must be >= 1, got ", e);
}

int64_t MacroArchitecture::width(size_t stage) const {
  return nn::models::scaled_width(base_width << stage, stages.at(stage).width_multiplier);
}

std::string MacroArchitecture::describe() const {
  std::ostringstream os;
  os << stages.size() << " stages:";
  for (size_t s = 0; s < stages.size(); ++s) {
    const StageSpec& st = stages[s];
    os << (s ? " |" : "") << " " << st.blocks << " x " << name(st.type);
    if (st.type == BlockType::inverted_bottleneck) os << "(e" << st.expansion << ")";
    os << " k" << st.kernel << " w" << width(s);
  }
  return os.str();
}

nlohmann::json MacroArchitecture::to_json() const {
  nlohmann::json stages_json = nlohmann::json::array();
  for (const StageSpec& st : stages)
    stages_json.push_back({{"blocks", st.blocks},
                           {"width_multiplier", st.width_multiplier},
                           {"kernel", st.kernel},
                           {"block", name(st.type)},
                           {"expansion", st.expansion}});
  return {{"base_width", base_width}, {"stages", stages_json}};
}

MacroArchitecture MacroArchitecture::from_json(const nlohmann::json& j) {
  try {
    MacroArchitecture a;
    a.base_width = j.at("base_width").get<int64_t>();
    for (const auto& st : j.at("stages"))
      a.stages.push_back({.blocks = st.at("blocks").get<int64_t>(),
                          .width_multiplier = st.at("width_multiplier").get<double>(),
                          .kernel = st.at("kernel").get<int64_t>(),
                          .type = block_type_from_name(st.at("block").get<std::string>()),
                          .expansion = st.at("expansion").get<int64_t>()});
    return a;
  } catch (const nlohmann::json::exception& e) {
    throw ValueError(nabla::detail::concat("nas::MacroArchitecture::from_json: ", e.what()));
  }
}

MacroArchitecture sample_architecture(Trial& trial, const MacroSpace& space) {
  space.validate();
  std::vector<ParamValue> types;
  for (BlockType t : space.block_types) types.emplace_back(std::string(name(t)));
  MacroArchitecture a{.base_width = space.base_width, .stages = {}};
  const int64_t stages = trial.suggest_int("stages", space.min_stages, space.max_stages);
  for (size_t s = 0; s < static_cast<size_t>(stages); ++s) {
    StageSpec st;
    st.blocks = trial.suggest_int(key(s, "blocks"), 1, space.max_blocks);
    st.width_multiplier = trial.suggest_categorical(key(s, "width"), space.width_multipliers);
    st.kernel = trial.suggest_categorical(key(s, "kernel"), space.kernels);
    st.type = block_type_from_name(
        std::get<std::string>(trial.suggest_categorical(key(s, "block"), types)));
    if (st.type == BlockType::inverted_bottleneck)
      st.expansion = trial.suggest_categorical(key(s, "expansion"), space.expansions);
    a.stages.push_back(st);
  }
  return a;
}

MacroArchitecture architecture_from_params(const std::map<std::string, ParamValue>& params,
                                           int64_t base_width) {
  MacroArchitecture a{.base_width = base_width, .stages = {}};
  const int64_t stages = param<int64_t>(params, "stages");
  for (size_t s = 0; s < static_cast<size_t>(stages); ++s) {
    StageSpec st;
    st.blocks = param<int64_t>(params, key(s, "blocks"));
    st.width_multiplier = param<double>(params, key(s, "width"));
    st.kernel = param<int64_t>(params, key(s, "kernel"));
    st.type = block_type_from_name(param<std::string>(params, key(s, "block")));
    if (st.type == BlockType::inverted_bottleneck)
      st.expansion = param<int64_t>(params, key(s, "expansion"));
    a.stages.push_back(st);
  }
  return a;
}

std::vector<BlockSpec> block_specs(const MacroArchitecture& a) {
  std::vector<BlockSpec> blocks;
  int64_t channels = a.stages.empty() ? 0 : a.width(0);
  for (size_t s = 0; s < a.stages.size(); ++s) {
    const StageSpec& st = a.stages[s];
    NABLA_CHECK(st.blocks >= 1, ValueError, "nas: stage ", s, " needs at least one block, got ",
                st.blocks);
    for (int64_t b = 0; b < st.blocks; ++b) {
      blocks.push_back({.type = st.type,
                        .in_channels = channels,
                        .out_channels = a.width(s),
                        .kernel = st.kernel,
                        .stride = (s > 0 && b == 0) ? 2 : 1,
                        .expansion = st.expansion});
      channels = a.width(s);
    }
  }
  return blocks;
}

MacroNetwork::MacroNetwork(const MacroArchitecture& architecture,
                           const nn::models::ModelOptions& options)
    : Module("MacroNetwork"), architecture_(architecture) {
  NABLA_CHECK(!architecture.stages.empty(), ValueError, "nas::MacroNetwork: no stages");
  const int64_t stem_channels = architecture.width(0);
  stem_ = register_module("stem", std::make_shared<ConvBnRelu>(options.in_channels, stem_channels,
                                                               3, nn::Conv2dOptions{.padding = 1}));
  const std::vector<BlockSpec> blocks = block_specs(architecture);
  size_t next = 0;
  for (size_t s = 0; s < architecture.stages.size(); ++s) {
    auto stage = std::make_shared<nn::Sequential>();
    for (int64_t b = 0; b < architecture.stages[s].blocks; ++b)
      stage->push_back(std::make_shared<Block>(blocks[next++]));
    stages_.push_back(register_module("stage" + std::to_string(s), stage));
  }
  const int64_t channels = blocks.back().out_channels;
  classifier_ = register_module("fc", std::make_shared<nn::Linear>(channels, options.num_classes));
}

Tensor MacroNetwork::forward(const Tensor& x) {
  Tensor y = (*stem_)(x);
  for (const auto& stage : stages_) y = (*stage)(y);
  return (*classifier_)(flatten(nn::adaptive_avg_pool2d(y, 1, 1), 1));
}

}  // namespace nabla::hpo::nas
