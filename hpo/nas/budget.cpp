// Parameter counts by the blocks' arithmetic, and the budget check.
#include "hpo/nas/budget.h"

#include <string>
#include <vector>

#include "core/error.h"
#include "hpo/pruner.h"

namespace nabla::hpo::nas {
namespace {

// A bias-free conv and its BatchNorm (weight and bias).
int64_t unit(int64_t in, int64_t out, int64_t kernel, int64_t groups = 1) {
  return in / groups * out * kernel * kernel + 2 * out;
}

int64_t block(const BlockSpec& b) {
  const int64_t in = b.in_channels, out = b.out_channels, k = b.kernel;
  switch (b.type) {
    case BlockType::plain:
    case BlockType::dilated:
      return unit(in, out, k);
    case BlockType::residual:
      return unit(in, out, k) + unit(out, out, k) +
             (b.stride == 1 && in == out ? 0 : unit(in, out, 1));
    case BlockType::depthwise_separable:
      return unit(in, in, k, in) + unit(in, out, 1);
    case BlockType::inverted_bottleneck: {
      const int64_t hidden = in * b.expansion;
      return (b.expansion > 1 ? unit(in, hidden, 1) : 0) + unit(hidden, hidden, k, hidden) +
             unit(hidden, out, 1);
    }
  }
  NABLA_ASSERT(false);
}

}  // namespace

int64_t count_parameters(const MacroArchitecture& a, int64_t num_classes, int64_t in_channels) {
  NABLA_CHECK(!a.stages.empty(), ValueError, "nas::count_parameters: no stages");
  int64_t total = unit(in_channels, a.width(0), 3);
  const std::vector<BlockSpec> blocks = block_specs(a);
  for (const BlockSpec& b : blocks) total += block(b);
  const int64_t channels = blocks.back().out_channels;
  return total + channels * num_classes + num_classes;
}

void require_within(const MacroArchitecture& a, const Budget& budget, LatencyTable* table,
                    int64_t num_classes, int64_t in_channels) {
  if (budget.max_parameters) {
    const int64_t n = count_parameters(a, num_classes, in_channels);
    if (n > *budget.max_parameters)
      throw TrialPruned("over the parameter budget: " + std::to_string(n) + " > " +
                        std::to_string(*budget.max_parameters));
  }
  if (budget.max_latency_ms) {
    NABLA_CHECK(table, ValueError, "nas::require_within: a latency budget needs a latency table");
    const double ms = table->predict_ms(a);
    if (ms > *budget.max_latency_ms)
      throw TrialPruned("over the latency budget: " + std::to_string(ms) + " ms > " +
                        std::to_string(*budget.max_latency_ms) + " ms");
  }
}

}  // namespace nabla::hpo::nas
