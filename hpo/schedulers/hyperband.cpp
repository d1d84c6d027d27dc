// Synchronous Hyperband (Note [hyperband brackets formula]).
#include "hpo/schedulers/hyperband.h"

#include <cmath>

#include "core/error.h"

namespace nabla::hpo {

void HyperbandOptions::validate() const {
  NABLA_CHECK(min_budget >= 1, ValueError,
              "hyperband: min_budget must be >= 1 (budgets are reported as integer steps: scale "
              "them), got ",
              min_budget);
  NABLA_CHECK(std::isfinite(max_budget) && max_budget >= min_budget, ValueError,
              "hyperband: max_budget (", max_budget, ") must be finite and >= min_budget (",
              min_budget, ")");
  NABLA_CHECK(eta >= 2, ValueError, "hyperband: eta must be >= 2, got ", eta);
  NABLA_CHECK(n_iterations >= 1, ValueError, "hyperband: n_iterations must be >= 1, got ",
              n_iterations);
  NABLA_CHECK(n_jobs >= 1, ValueError, "hyperband: n_jobs must be >= 1, got ", n_jobs);
}

std::vector<BracketPlan> hyperband_plan(const HyperbandOptions& options) {
  options.validate();
  const int64_t s_max = halvings(options.min_budget, options.max_budget, options.eta);
  std::vector<BracketPlan> plans;
  for (int64_t s = s_max; s >= 0; --s) {
    int64_t power = 1;
    for (int64_t i = 0; i < s; ++i) power *= options.eta;
    const int64_t n = ((s_max + 1) * power + s) / (s + 1);  // ceil((s_max + 1) eta^s / (s + 1))
    plans.push_back(bracket_plan(s, n, options.max_budget, options.eta));
  }
  return plans;
}

ScheduleResult hyperband(Study& study, const BudgetMultiObjective& objective,
                         const HyperbandOptions& options) {
  const auto plans = hyperband_plan(options);
  ScheduleResult result;
  for (int64_t pass = 0; pass < options.n_iterations; ++pass) {
    for (const auto& plan : plans) {
      result.brackets.push_back(run_bracket(study, objective, plan, options.n_jobs));
      result.total_budget += total_budget(result.brackets.back());
    }
  }
  return result;
}

ScheduleResult hyperband(Study& study, const BudgetObjective& objective,
                         const HyperbandOptions& options) {
  return hyperband(study, BudgetMultiObjective([&](Trial& t, double budget) {
                     return std::vector<double>{objective(t, budget)};
                   }),
                   options);
}

}  // namespace nabla::hpo
