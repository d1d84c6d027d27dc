// Synchronous Hyperband (Li et al. 2018): successive halving over brackets that trade the number
// of configurations against the budget each starts with.
#pragma once

#include <cstdint>
#include <vector>

#include "hpo/schedulers/successive_halving.h"

namespace nabla::hpo {

struct HyperbandOptions {
  double min_budget = 1;   // r_min (the paper's unit of resource)
  double max_budget = 81;  // R
  int64_t eta = 3;
  int64_t n_iterations = 1;  // passes over the brackets s = s_max..0
  int n_jobs = 1;
  void validate() const;
};

// Note [hyperband brackets formula]: one pass of Li et al. 2018, Algorithm 1, with R measured in
// units of r_min: s_max = floor(log_eta(R / r_min)) (halvings()), and for s = s_max, ..., 0 the
// bracket s runs n = ceil((s_max + 1) eta^s / (s + 1)) configurations (integer arithmetic, the
// paper's ceil(B / R * eta^s / (s + 1)) with B = (s_max + 1) R) at r = R eta^-s, and at rung
// i = 0..s keeps n_i = floor(n eta^-i) of them at budget r_i = r eta^i (bracket_plan). For
// R = 81, r_min = 1, eta = 3 this is the paper's table: n = 81, 34, 15, 8, 5 at r = 1, 3, 9,
// 27, 81.
std::vector<BracketPlan> hyperband_plan(const HyperbandOptions& options);

ScheduleResult hyperband(Study& study, const BudgetObjective& objective,
                         const HyperbandOptions& options = {});
ScheduleResult hyperband(Study& study, const BudgetMultiObjective& objective,
                         const HyperbandOptions& options = {});

}  // namespace nabla::hpo
