// The macro search space for CIFAR-sized images: a stem, then stages of blocks, each stage with
// its own depth, width, kernel size and block type. Every choice is a trial.suggest_* call, so
// any sampler (random, TPE, GP, CMA-ES, evolution, NSGA-II) searches it as it searches
// hyperparameters, and a trial's parameters are the architecture.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hpo/nas/blocks.h"
#include "hpo/trial.h"
#include "nn/models/options.h"

namespace nabla::hpo::nas {

struct MacroSpace {
  int64_t min_stages = 2, max_stages = 4;
  int64_t max_blocks = 4;   // per stage, at least 1
  int64_t base_width = 16;  // stage s has base_width * 2^s channels before its multiplier
  std::vector<double> width_multipliers = {0.5, 0.75, 1.0, 1.5, 2.0};
  std::vector<int64_t> kernels = {3, 5, 7};
  std::vector<BlockType> block_types = all_block_types();
  std::vector<int64_t> expansions = {2, 4, 6};  // inverted bottlenecks only

  // A ValueError naming the first bad field.
  void validate() const;
};

struct StageSpec {
  int64_t blocks = 1;
  double width_multiplier = 1.0;
  int64_t kernel = 3;
  BlockType type = BlockType::plain;
  int64_t expansion = 1;  // 1 unless type is inverted_bottleneck
  bool operator==(const StageSpec&) const = default;
};

struct MacroArchitecture {
  int64_t base_width = 16;
  std::vector<StageSpec> stages;

  // Stage s's channels: round(base_width * 2^s * multiplier), at least 1.
  int64_t width(size_t stage) const;
  // One line, e.g. "3 stages: 2 x residual k3 w16 | 1 x inverted_bottleneck(e4) k5 w48 | ...".
  std::string describe() const;
  nlohmann::json to_json() const;
  // A ValueError for a missing or mistyped field.
  static MacroArchitecture from_json(const nlohmann::json& j);
  bool operator==(const MacroArchitecture&) const = default;
};

// The network's blocks in order: each stage's, the first of every stage but the first with
// stride 2, each reading the previous block's channels (the stem's, width(0), for the first).
std::vector<BlockSpec> block_specs(const MacroArchitecture& architecture);

// Asks `trial` for an architecture. The parameters: "stages", then for each stage s "s<s>.blocks",
// "s<s>.width", "s<s>.kernel", "s<s>.block" and, for an inverted bottleneck only, "s<s>.expansion"
// (conditional parameters: a sampler sees a stage's only where that stage exists).
MacroArchitecture sample_architecture(Trial& trial, const MacroSpace& space = {});
// The architecture a finished trial's parameters describe (the names above); a ValueError when
// one is missing.
MacroArchitecture architecture_from_params(const std::map<std::string, ParamValue>& params,
                                           int64_t base_width = MacroSpace{}.base_width);

// stem (conv 3x3, BN, ReLU) -> stages (each but the first halves the resolution in its first
// block) -> global average pooling -> Linear. [N, in_channels, S, S] -> [N, num_classes].
class MacroNetwork : public nn::Module {
 public:
  MacroNetwork(const MacroArchitecture& architecture, const nn::models::ModelOptions& options = {});
  Tensor forward(const Tensor& x) override;

  const MacroArchitecture& architecture() const { return architecture_; }

 private:
  MacroArchitecture architecture_;
  std::shared_ptr<ConvBnRelu> stem_;
  std::vector<std::shared_ptr<nn::Sequential>> stages_;
  std::shared_ptr<nn::Module> classifier_;
};

}  // namespace nabla::hpo::nas
