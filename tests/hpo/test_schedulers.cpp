// Synchronous schedulers over studies: successive halving's rungs and promotions, Hyperband's
// bracket table, BOHB's kernel densities and BOHB against Hyperband on a multi-fidelity Hartmann-6.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "core/error.h"
#include "functions.h"
#include "hpo/hpo.h"

using namespace nabla::hpo;

namespace {

std::vector<int64_t> sizes_of(const BracketRecord& b, bool promoted = false) {
  std::vector<int64_t> out;
  for (const auto& r : b.rungs)
    out.push_back(int64_t(promoted ? r.promoted.size() : r.evaluated.size()));
  return out;
}

Study seeded_study(uint64_t seed, std::vector<Direction> directions = {Direction::minimize}) {
  return create_study(
      {.directions = std::move(directions), .sampler = std::make_shared<RandomSampler>(seed)});
}

// Rank-preserving fidelity: the budget adds the same amount to every configuration.
double toy(Trial& t, double budget) {
  const double x = t.suggest_float("x", 0, 1);
  return (x - 0.3) * (x - 0.3) + 1 / budget;
}

}  // namespace

TEST_CASE("successive halving keeps floor(n / eta) per rung, the best ones, and finds the best") {
  Study study = seeded_study(31);
  const auto result =
      successive_halving(study, toy, {.n_configs = 20, .min_budget = 1, .max_budget = 9, .eta = 3});
  REQUIRE(result.brackets.size() == 1);
  const BracketRecord& bracket = result.brackets[0];
  CHECK(bracket.s == 2);
  CHECK(sizes_of(bracket) == std::vector<int64_t>{20, 6, 2});
  CHECK(sizes_of(bracket, true) == std::vector<int64_t>{6, 2, 0});
  CHECK(bracket.rungs[1].budget == 3);
  CHECK(result.total_budget == 20 * 1 + 6 * 3 + 2 * 9);
  const auto trials = study.trials();
  // At each rung the promoted are exactly the best of its reports.
  for (const auto& rung : bracket.rungs) {
    if (rung.promoted.empty()) continue;
    const int64_t step = step_of_budget(rung.budget);
    std::vector<std::pair<double, int64_t>> ranked;
    for (int64_t k : rung.evaluated)
      ranked.push_back({trials[size_t(k)]->intermediate_values.at(step)[0], k});
    std::sort(ranked.begin(), ranked.end());
    std::vector<int64_t> best;
    for (size_t i = 0; i < rung.promoted.size(); ++i) best.push_back(ranked[i].second);
    std::sort(best.begin(), best.end());
    CHECK(best == rung.promoted);
  }
  // The true best of the 20 configurations is the best complete trial, at the full budget.
  int64_t truth = 0;
  for (const auto& t : trials)
    if (std::abs(std::get<double>(t->params.at("x")) - 0.3) <
        std::abs(std::get<double>(trials[size_t(truth)]->params.at("x")) - 0.3))
      truth = t->number;
  CHECK(study.best_trial()->number == truth);
  CHECK(study.best_trial()->intermediate_values.rbegin()->first == 9);
  int64_t complete = 0, pruned = 0;
  for (const auto& t : trials) {
    complete += t->state == TrialState::complete;
    if (t->state != TrialState::pruned) continue;
    ++pruned;
    CHECK(t->values == t->intermediate_values.rbegin()->second);  // its last report
  }
  CHECK(complete == 2);
  CHECK(pruned == 18);
}

TEST_CASE("successive halving: rounding, ties, failures and threads") {
  // floor(5 / 3) = 1, and one configuration goes on to the end.
  CHECK(successive_halving_plan({.n_configs = 5, .max_budget = 9}).sizes ==
        std::vector<int64_t>{5, 1, 1});
  CHECK(successive_halving_plan({.n_configs = 5, .max_budget = 9}).budgets ==
        std::vector<double>{1, 3, 9});
  // R = 100 is not a power of 3: the rungs are R eta^-i, reported at the rounded steps.
  const auto odd = successive_halving_plan({.n_configs = 81, .max_budget = 100});
  CHECK(odd.budgets.front() == doctest::Approx(100.0 / 81));
  Study steps = seeded_study(32);
  successive_halving(steps, toy, {.n_configs = 81, .max_budget = 100});
  CHECK(steps.best_trial()->intermediate_values.size() == 5);
  std::vector<int64_t> reported;
  for (const auto& [s, v] : steps.best_trial()->intermediate_values) reported.push_back(s);
  CHECK(reported == std::vector<int64_t>{1, 4, 11, 33, 100});

  // Equal values: the lower trial numbers go on.
  Study ties = seeded_study(33);
  const auto tied = successive_halving(ties, [](Trial&, double) { return 1.0; },
                                       {.n_configs = 9, .max_budget = 3});
  CHECK(tied.brackets[0].rungs[0].promoted == std::vector<int64_t>{0, 1, 2});

  // A failing configuration is never promoted; the reason is kept.
  Study failing = seeded_study(34);
  const auto failed = successive_halving(failing,
                                         [](Trial& t, double budget) {
                                           if (t.number() == 0)
                                             throw std::runtime_error("diverged");
                                           return t.number() == 1 ? std::nan("") : toy(t, budget);
                                         },
                                         {.n_configs = 9, .max_budget = 3});
  const auto& first = failed.brackets[0].rungs[0].promoted;
  CHECK(std::find(first.begin(), first.end(), 0) == first.end());
  CHECK(first.size() == 3);
  CHECK(failing.trials()[0]->state == TrialState::failed);
  CHECK(failing.trials()[0]->user_attrs["fail_reason"] == "diverged");
  CHECK(failing.trials()[1]->state == TrialState::failed);

  // Threads change nothing but the timing.
  auto run = [](int n_jobs) {
    Study study = seeded_study(35);
    successive_halving(study, toy, {.n_configs = 27, .max_budget = 27, .n_jobs = n_jobs});
    std::vector<std::pair<double, TrialState>> out;
    for (const auto& t : study.trials())
      out.push_back({std::get<double>(t->params.at("x")), t->state});
    return out;
  };
  CHECK(run(4) == run(1));
  CHECK_THROWS_AS(successive_halving_plan({.min_budget = 0.5}), nabla::ValueError);
  CHECK_THROWS_AS(successive_halving_plan({.eta = 1}), nabla::ValueError);
}

TEST_CASE("successive halving for two objectives promotes by front, then crowding distance") {
  // Budget 1: front 0 is trials 0, 1, 2, 5; trial 5 and 2 are its boundary points, trial 1's
  // crowding distance 1.61 beats trial 0's 1.18.
  const std::vector<std::vector<double>> at_one = {{1, 5},   {2, 3}, {4, 2},     {3, 4}, {5, 5},
                                                   {0.5, 6}, {6, 6}, {2.5, 3.5}, {4, 4}};
  Study study = seeded_study(36, {Direction::minimize, Direction::minimize});
  const auto result = successive_halving(study,
                                         [&](Trial& t, double budget) {
                                           const auto& v = at_one[size_t(t.number())];
                                           return std::vector<double>{v[0] / budget, v[1] / budget};
                                         },
                                         {.n_configs = 9, .max_budget = 3});
  CHECK(result.brackets[0].rungs[0].promoted == std::vector<int64_t>{1, 2, 5});
  CHECK(study.best_trials().size() == 3);
}

TEST_CASE("Hyperband's brackets match Li et al.'s table for (R, eta) = (81, 3) and (27, 3)") {
  const auto plans = hyperband_plan({.min_budget = 1, .max_budget = 81, .eta = 3});
  REQUIRE(plans.size() == 5);
  const std::vector<std::vector<int64_t>> sizes = {
      {81, 27, 9, 3, 1}, {34, 11, 3, 1}, {15, 5, 1}, {8, 2}, {5}};
  const std::vector<std::vector<double>> budgets = {
      {1, 3, 9, 27, 81}, {3, 9, 27, 81}, {9, 27, 81}, {27, 81}, {81}};
  for (size_t b = 0; b < 5; ++b) {
    CHECK(plans[b].s == int64_t(4 - b));
    CHECK(plans[b].sizes == sizes[b]);
    CHECK(plans[b].budgets == budgets[b]);
  }
  const auto small = hyperband_plan({.max_budget = 27});
  std::vector<int64_t> n;
  std::vector<double> r;
  for (const auto& p : small) {
    n.push_back(p.sizes[0]);
    r.push_back(p.budgets[0]);
  }
  CHECK(n == std::vector<int64_t>{27, 12, 6, 4});
  CHECK(r == std::vector<double>{1, 3, 9, 27});
  // r_min = 3 of R = 81: s_max = 3, n = ceil(4 * 27 / 4) = 27, ... at r = 3, 9, 27, 81.
  const auto coarse = hyperband_plan({.min_budget = 3, .max_budget = 81});
  CHECK(coarse.size() == 4);
  CHECK(coarse[0].sizes == std::vector<int64_t>{27, 9, 3, 1});
  CHECK(coarse[0].budgets.front() == 3);
  CHECK(coarse[1].sizes[0] == 12);
}

TEST_CASE("a Hyperband run follows its plan, survivors complete, the rest are pruned") {
  Study study = seeded_study(37);
  const auto result = hyperband(study, toy, {.max_budget = 27, .n_jobs = 2});
  const auto plans = hyperband_plan({.max_budget = 27});
  REQUIRE(result.brackets.size() == plans.size());
  for (size_t b = 0; b < plans.size(); ++b) {
    CHECK(sizes_of(result.brackets[b]) == plans[b].sizes);
    std::vector<int64_t> next(plans[b].sizes.begin() + 1, plans[b].sizes.end());
    next.push_back(0);
    CHECK(sizes_of(result.brackets[b], true) == next);
  }
  // 27 + 9 * 3 + 3 * 9 + 27, 12 * 3 + 4 * 9 + 27, 6 * 9 + 2 * 27, 4 * 27.
  CHECK(result.total_budget == 108 + 99 + 108 + 108);
  int64_t complete = 0, pruned = 0;
  for (const auto& t : study.trials()) {
    complete += t->state == TrialState::complete;
    pruned += t->state == TrialState::pruned;
  }
  CHECK(study.trials().size() == 27 + 12 + 6 + 4);
  CHECK(complete == 1 + 1 + 2 + 4);
  CHECK(pruned == 49 - 8);
}

TEST_CASE("BOHB's kernel densities on hand-computed examples") {
  // Points 0.2 and 0.6: sigma 0.2, h = 1.06 * 0.2 * 2^(-1/5); truncated Gaussians on [0, 1].
  const ProductKde one({{}}, {{0.2}, {0.6}});
  CHECK(one.bandwidths()[0] == doctest::Approx(0.1845567194187783));
  CHECK(std::exp(one.log_pdf(std::vector<double>{0.4})) == doctest::Approx(1.308410494511591));
  CHECK(std::exp(one.log_pdf(std::vector<double>{0.0})) == doctest::Approx(0.7035899189100053));
  double integral = 0;
  for (int i = 0; i < 10000; ++i)
    integral += std::exp(one.log_pdf(std::vector<double>{(i + 0.5) / 10000})) / 10000;
  CHECK(integral == doctest::Approx(1).epsilon(1e-6));

  // A continuous and a 3-way categorical coordinate: p = (2/3, 1/3, 0), lambda =
  // 1.06 sqrt(1 - 5/9) 3^(-1/6).
  const ProductKde mixed({{}, {.n_choices = 3}}, {{0.1, 0}, {0.5, 0}, {0.9, 1}});
  CHECK(mixed.bandwidths()[0] == doctest::Approx(0.28827037824197815));
  CHECK(mixed.bandwidths()[1] == doctest::Approx(0.5884294455432938));
  CHECK(std::exp(mixed.log_pdf(std::vector<double>{0.4, 0})) ==
        doctest::Approx(0.4164631255542269));
  CHECK(std::exp(mixed.log_pdf(std::vector<double>{0.4, 2})) ==
        doctest::Approx(0.31125869975222537));
  // Identical points still make a density (min_bandwidth), and lambda stops at (c - 1) / c.
  const ProductKde flat({{}, {.n_choices = 2}}, {{0.5, 0}, {0.5, 1}}, 1e-3);
  CHECK(flat.bandwidths()[0] == 1e-3);
  CHECK(flat.bandwidths()[1] == 0.5);
  CHECK_THROWS_AS(ProductKde({{}}, {{1.5}}), nabla::ValueError);

  CHECK(bohb_split(20, 0.15, 3).n_good == 3);
  CHECK(bohb_split(20, 0.15, 3).n_bad == 17);
  CHECK(bohb_split(5, 0.15, 3).n_good == 3);
  CHECK(bohb_split(5, 0.15, 3).n_bad == 3);  // overlapping: max(N_min, 5 - 3)
  CHECK(bohb_split(100, 0.15, 3).n_good == 15);

  // Good points near 0.1, bad ones near 0.9: the best ratio lies on the good side; the widened
  // draws spread further than the plain ones.
  const ProductKde good({{}}, {{0.08}, {0.1}, {0.12}});
  const ProductKde bad({{}}, {{0.85}, {0.9}, {0.95}});
  Rng rng(41);
  const auto x = propose_by_ratio(good, bad, 64, 3, rng);
  CHECK(x[0] < 0.3);
  double plain = 0, widened = 0;
  for (int i = 0; i < 2000; ++i) {
    plain += std::abs(good.sample(rng)[0] - 0.1);
    widened += std::abs(good.sample(rng, 3)[0] - 0.1);
  }
  CHECK(widened > 2 * plain);
}

TEST_CASE("BOHB beats Hyperband with random configurations on a multi-fidelity Hartmann-6") {
  // Hartmann-6 plus a bias and noise that vanish at the full budget R = 27, where the value is
  // exact. (On Branin, where random search is strong in two dimensions, BOHB only ties
  // Hyperband at this budget.)
  const double R = 27;
  auto objective = [R](Trial& t, double budget) {
    std::vector<double> x;
    for (const char* name : {"x0", "x1", "x2", "x3", "x4", "x5"})
      x.push_back(t.suggest_float(name, 0, 1));
    Rng noise = Rng::keyed(7, t.number(), "noise", step_of_budget(budget));
    const double fade = 1 - budget / R;
    return testing::hartmann6(x) + fade * ((x[0] - x[1]) + noise.normal());
  };
  const HyperbandOptions schedule{.max_budget = R, .n_iterations = 3};
  const auto& hartmann = testing::single_objective_functions()[1];
  const int64_t n_seeds = 15;
  std::vector<double> hb_regret, bohb_regret;
  int64_t proposed = 0, wins = 0;
  for (uint64_t seed = 0; seed < uint64_t(n_seeds); ++seed) {
    Study plain = seeded_study(seed);
    const auto hb = hyperband(plain, objective, schedule);
    hb_regret.push_back(testing::regret(plain, hartmann));
    Study model = seeded_study(seed);
    const auto bo = bohb(model, objective, {.hyperband = schedule});
    bohb_regret.push_back(testing::regret(model, hartmann));
    wins += bohb_regret.back() < hb_regret.back();
    CHECK(bo.total_budget == hb.total_budget);
    CHECK(bo.total_budget == 3 * 423);
    for (const auto& t : model.trials()) proposed += t->system_attrs.contains("fixed_params");
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  MESSAGE("median regret over ", n_seeds, " seeds at 3 x 423 budget units: Hyperband ",
          median(hb_regret), ", BOHB ", median(bohb_regret), "; BOHB better on ", wins, " seeds; ",
          proposed, " of ", n_seeds * 3 * 49, " configurations from the model");
  CHECK(median(bohb_regret) < median(hb_regret));
  CHECK(proposed > n_seeds * 3 * 49 / 3);
}

TEST_CASE("BOHB on two objectives ranks its observations by front and proposes from the model") {
  // ZDT1 over [0, 1]^3 with noise that vanishes at the full budget.
  Study study = seeded_study(38, {Direction::minimize, Direction::minimize});
  const auto result = bohb(study,
                           [](Trial& t, double budget) {
                             std::vector<double> x;
                             for (const char* name : {"x0", "x1", "x2"})
                               x.push_back(t.suggest_float(name, 0, 1));
                             Rng noise = Rng::keyed(8, t.number(), "noise", step_of_budget(budget));
                             auto f = testing::zdt(x, false);
                             for (double& v : f) v += (1 - budget / 27) * 0.1 * noise.normal();
                             return f;
                           },
                           {.hyperband = {.max_budget = 27}});
  CHECK(result.total_budget == 423);
  int64_t proposed = 0;
  for (const auto& t : study.trials()) proposed += t->system_attrs.contains("fixed_params");
  // Of 49 configurations, those after the first N_min + 2 = 6 at budget 1, less a third.
  CHECK(proposed > 49 / 3);
  const auto front = study.best_trials();
  CHECK(!front.empty());
  for (const auto& t : front) CHECK(t->intermediate_values.rbegin()->first == 27);
}
