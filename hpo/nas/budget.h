// Budgets for hardware-aware search: a candidate over its parameter or latency budget is pruned
// before anything trains it, so a constrained search spends its compute on feasible networks.
#pragma once

#include <cstdint>
#include <optional>

#include "hpo/nas/latency_table.h"
#include "hpo/nas/macro_space.h"

namespace nabla::hpo::nas {

// The parameters MacroNetwork(a, {num_classes, in_channels}) would have, counted from the
// architecture without building it (a network's initialization draws from the global generator).
int64_t count_parameters(const MacroArchitecture& a, int64_t num_classes = 10,
                         int64_t in_channels = 3);

struct Budget {
  std::optional<int64_t> max_parameters{};
  std::optional<double> max_latency_ms{};  // predicted by the latency table
};

// Throws TrialPruned, naming the budget and the figure, when `a` is over a budget; the latency
// budget needs `table`. Call it in the objective before training.
void require_within(const MacroArchitecture& a, const Budget& budget, LatencyTable* table = nullptr,
                    int64_t num_classes = 10, int64_t in_channels = 3);

}  // namespace nabla::hpo::nas
