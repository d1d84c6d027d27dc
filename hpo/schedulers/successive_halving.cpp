// Synchronous successive halving and the bracket runner.
#include "hpo/schedulers/successive_halving.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <sstream>
#include <thread>

#include "core/error.h"
#include "hpo/pruners/ranking.h"

namespace nabla::hpo {

namespace {

enum class Outcome : uint8_t { ok, pruned, failed };

struct Evaluation {
  Outcome outcome = Outcome::ok;
  std::vector<double> values{};
  std::string reason{};
};

// Why `values` cannot be told, or empty when they can.
std::string invalid(const std::vector<double>& values, size_t n_objectives, double budget) {
  std::ostringstream os;
  if (values.size() != n_objectives)
    os << "the objective returned " << values.size() << " values at budget " << budget
       << " for a study of " << n_objectives << " objectives";
  else if (auto it = std::find_if(values.begin(), values.end(),
                                  [](double v) { return !std::isfinite(v); });
           it != values.end())
    os << "the objective returned " << *it << " at budget " << budget;
  return os.str();
}

Evaluation evaluate(Trial& trial, const BudgetMultiObjective& objective, double budget,
                    size_t n_objectives) {
  Evaluation e;
  try {
    e.values = objective(trial, budget);
    e.reason = invalid(e.values, n_objectives, budget);
    if (e.reason.empty())
      trial.report(step_of_budget(budget), e.values);
    else
      e.outcome = Outcome::failed;
  } catch (const TrialPruned&) {
    e.outcome = Outcome::pruned;
  } catch (const std::exception& ex) {
    e.outcome = Outcome::failed;
    e.reason = ex.what();
  } catch (...) {
    e.outcome = Outcome::failed;
    e.reason = "an exception not derived from std::exception";
  }
  return e;
}

// body(0), ..., body(n - 1) on up to n_jobs threads; body must not throw.
void parallel_for(int64_t n, int n_jobs, const std::function<void(int64_t)>& body) {
  std::atomic<int64_t> next{0};
  auto work = [&] {
    for (int64_t i = next++; i < n; i = next++) body(i);
  };
  std::vector<std::jthread> threads;
  for (int64_t j = 1; j < std::min<int64_t>(n_jobs, n); ++j) threads.emplace_back(work);
  work();
}

}  // namespace

int64_t step_of_budget(double budget) { return std::llround(budget); }

int64_t halvings(double min_budget, double max_budget, int64_t eta) {
  int64_t s = 0;
  const double eta_d = static_cast<double>(eta);
  for (double r = min_budget * eta_d; r <= max_budget * (1 + 1e-9); r *= eta_d) ++s;
  return s;
}

BracketPlan bracket_plan(int64_t s, int64_t n, double max_budget, int64_t eta) {
  BracketPlan plan{.s = s};
  double shrink = 1;  // eta^(s - i)
  for (int64_t i = 0; i < s; ++i) shrink *= static_cast<double>(eta);
  for (int64_t i = 0; i <= s; ++i) {
    plan.sizes.push_back(i == 0 ? n : std::max<int64_t>(1, plan.sizes.back() / eta));
    plan.budgets.push_back(max_budget / shrink);
    shrink /= static_cast<double>(eta);
  }
  return plan;
}

BracketRecord run_bracket(Study& study, const BudgetMultiObjective& objective,
                          const BracketPlan& plan, int n_jobs, const ConfigProposer& propose) {
  NABLA_CHECK(!plan.sizes.empty() && plan.sizes.size() == plan.budgets.size(), ValueError,
              "run_bracket: a plan needs one size per budget, got ", plan.sizes.size(),
              " sizes and ", plan.budgets.size(), " budgets");
  NABLA_CHECK(plan.sizes[0] >= 1, ValueError,
              "run_bracket: the first rung needs >= 1 "
              "configuration, got ",
              plan.sizes[0]);
  NABLA_CHECK(n_jobs >= 1, ValueError, "run_bracket: n_jobs must be >= 1, got ", n_jobs);
  const size_t n_objectives = study.directions().size();
  BracketRecord record{.s = plan.s};
  std::vector<Trial> trials;
  trials.reserve(static_cast<size_t>(plan.sizes[0]));
  std::vector<size_t> alive;  // indices into `trials` of this rung's configurations
  for (size_t i = 0; i < plan.sizes.size(); ++i) {
    const double budget = plan.budgets[i];
    RungRecord rung{.budget = budget};
    std::vector<Evaluation> results;
    auto run = [&](int64_t k) {
      results[static_cast<size_t>(k)] =
          evaluate(trials[alive[static_cast<size_t>(k)]], objective, budget, n_objectives);
    };
    if (i == 0) {
      results.resize(static_cast<size_t>(plan.sizes[0]));
      for (int64_t wave = 0; wave < plan.sizes[0]; wave += n_jobs) {
        const int64_t end = std::min<int64_t>(plan.sizes[0], wave + n_jobs);
        for (int64_t k = wave; k < end; ++k) {
          if (propose) propose(study);
          trials.push_back(study.ask());
          alive.push_back(static_cast<size_t>(k));
        }
        parallel_for(end - wave, n_jobs, [&](int64_t k) { run(wave + k); });
      }
    } else {
      results.resize(alive.size());
      parallel_for(static_cast<int64_t>(alive.size()), n_jobs, run);
    }

    std::vector<size_t> succeeded;  // positions in `alive`
    for (size_t k = 0; k < alive.size(); ++k) {
      Trial& trial = trials[alive[k]];
      rung.evaluated.push_back(trial.number());
      switch (results[k].outcome) {
        case Outcome::failed:
          trial.set_user_attr("fail_reason", results[k].reason);
          study.tell(trial, TrialState::failed);
          break;
        case Outcome::pruned:
          study.tell(trial, TrialState::pruned);
          break;
        case Outcome::ok:
          succeeded.push_back(k);
          break;
      }
    }
    if (i + 1 == plan.sizes.size()) {
      for (size_t k : succeeded) study.tell(trials[alive[k]], results[k].values);
      record.rungs.push_back(std::move(rung));
      break;
    }
    std::vector<std::vector<double>> points;
    for (size_t k : succeeded) points.push_back(results[k].values);
    const auto order = ranking::rank_order(points, study.directions());
    const size_t kept = std::min(static_cast<size_t>(plan.sizes[i + 1]), order.size());
    std::vector<size_t> next;
    for (size_t j = 0; j < order.size(); ++j) {
      const size_t trial_index = alive[succeeded[order[j]]];
      if (j < kept)
        next.push_back(trial_index);
      else
        study.tell(trials[trial_index], TrialState::pruned);
    }
    std::sort(next.begin(), next.end());
    for (size_t t : next) rung.promoted.push_back(trials[t].number());
    alive = std::move(next);
    record.rungs.push_back(std::move(rung));
    if (alive.empty()) break;
  }
  return record;
}

double total_budget(const BracketRecord& bracket) {
  double total = 0;
  for (const auto& rung : bracket.rungs)
    total += rung.budget * static_cast<double>(rung.evaluated.size());
  return total;
}

void SuccessiveHalvingOptions::validate() const {
  NABLA_CHECK(n_configs >= 1, ValueError, "successive_halving: n_configs must be >= 1, got ",
              n_configs);
  NABLA_CHECK(min_budget >= 1, ValueError,
              "successive_halving: min_budget must be >= 1 (budgets are reported as integer "
              "steps: scale them), got ",
              min_budget);
  NABLA_CHECK(std::isfinite(max_budget) && max_budget >= min_budget, ValueError,
              "successive_halving: max_budget (", max_budget,
              ") must be finite and >= min_budget (", min_budget, ")");
  NABLA_CHECK(eta >= 2, ValueError, "successive_halving: eta must be >= 2, got ", eta);
  NABLA_CHECK(n_jobs >= 1, ValueError, "successive_halving: n_jobs must be >= 1, got ", n_jobs);
}

BracketPlan successive_halving_plan(const SuccessiveHalvingOptions& options) {
  options.validate();
  const int64_t s = halvings(options.min_budget, options.max_budget, options.eta);
  return bracket_plan(s, options.n_configs, options.max_budget, options.eta);
}

ScheduleResult successive_halving(Study& study, const BudgetMultiObjective& objective,
                                  const SuccessiveHalvingOptions& options) {
  const BracketPlan plan = successive_halving_plan(options);
  ScheduleResult result;
  result.brackets.push_back(run_bracket(study, objective, plan, options.n_jobs));
  result.total_budget = total_budget(result.brackets.back());
  return result;
}

ScheduleResult successive_halving(Study& study, const BudgetObjective& objective,
                                  const SuccessiveHalvingOptions& options) {
  return successive_halving(study, BudgetMultiObjective([&](Trial& t, double budget) {
                              return std::vector<double>{objective(t, budget)};
                            }),
                            options);
}

}  // namespace nabla::hpo
