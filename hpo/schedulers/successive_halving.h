// Synchronous successive halving (Jamieson & Talwalkar 2016) driving a study by ask and tell:
// configurations run at a budget, the best 1/eta go on to eta times the budget, the rest are
// pruned. Also the bracket runner Hyperband and BOHB are built on.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "hpo/study.h"

namespace nabla::hpo {

// Evaluates one configuration (the trial's suggestions, the same at every call) at a budget:
// epochs, iterations, examples. A TrialPruned from it prunes the trial; another exception or a
// non-finite value fails it, with the reason in the trial's user attribute "fail_reason".
using BudgetObjective = std::function<double(Trial&, double budget)>;
using BudgetMultiObjective = std::function<std::vector<double>(Trial&, double budget)>;

// Note [budgets as steps]: the value of a call at budget b is reported at step llround(b), so
// pruners, plots and BOHB read the rungs from the reports. Budgets are >= 1 and grow by a factor
// eta >= 2 from rung to rung, so consecutive rungs land on distinct steps.
int64_t step_of_budget(double budget);

// The largest s with min_budget * eta^s <= max_budget (a relative 1e-9 forgives rounding):
// Hyperband's s_max = floor(log_eta(R / r_min)).
int64_t halvings(double min_budget, double max_budget, int64_t eta);

// One bracket: sizes[i] configurations run at budgets[i].
struct BracketPlan {
  int64_t s = 0;                  // s + 1 rungs
  std::vector<int64_t> sizes{};   // sizes[0] = n; sizes[i + 1] = max(1, floor(sizes[i] / eta))
  std::vector<double> budgets{};  // budgets[i] = max_budget * eta^(i - s)
};
// The plan above for n configurations.
BracketPlan bracket_plan(int64_t s, int64_t n, double max_budget, int64_t eta);

struct RungRecord {
  double budget = 0;
  std::vector<int64_t> evaluated{};  // trial numbers run at this budget, in number order
  std::vector<int64_t> promoted{};   // those sent on to the next rung (none from the last)
};

struct BracketRecord {
  int64_t s = 0;
  std::vector<RungRecord> rungs{};
};

// The sum of the budgets of the bracket's objective calls.
double total_budget(const BracketRecord& bracket);

struct ScheduleResult {
  std::vector<BracketRecord> brackets{};
  double total_budget = 0;  // over all brackets
};

// Called before each first-rung configuration is asked; BOHB enqueues its model's proposal there.
using ConfigProposer = std::function<void(Study&)>;

// Runs a bracket. Rung 0's trials are asked (after `propose`, when given) n_jobs at a time and
// each wave evaluated in parallel before the next is asked, so a proposer learns from the waves
// before; a later rung's configurations run n_jobs at a time. After each rung the best
// sizes[i + 1] of the configurations that succeeded (Note [report order] in pruners/ranking.h,
// ties to the lower trial number) go on and the others are told pruned, keeping their last report
// as their value; the configurations of the last rung are told complete.
BracketRecord run_bracket(Study& study, const BudgetMultiObjective& objective,
                          const BracketPlan& plan, int n_jobs, const ConfigProposer& propose = {});

struct SuccessiveHalvingOptions {
  int64_t n_configs = 81;
  double min_budget = 1;   // the first rung runs at max_budget * eta^-s >= min_budget, where
  double max_budget = 81;  // s = halvings(min_budget, max_budget, eta)
  int64_t eta = 3;
  int n_jobs = 1;
  void validate() const;
};

BracketPlan successive_halving_plan(const SuccessiveHalvingOptions& options);

ScheduleResult successive_halving(Study& study, const BudgetObjective& objective,
                                  const SuccessiveHalvingOptions& options = {});
ScheduleResult successive_halving(Study& study, const BudgetMultiObjective& objective,
                                  const SuccessiveHalvingOptions& options = {});

}  // namespace nabla::hpo
