// Warm starts: ranking best first (one objective, Pareto fronts cut by hypervolume), enqueuing an
// earlier study's best configurations, and TPE learning from an earlier study's trials.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "hpo/functions.h"
#include "hpo/hpo.h"
#include "hpo/ranking.h"

using namespace nabla::hpo;
using namespace nabla::hpo::testing;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The 1-based count of trials until the study's best is within `target` of the optimum; one past
// the study's length if it never gets there.
double trials_to_reach(const Study& study, const TestFunction& fn, double target) {
  const auto trials = study.trials();
  for (size_t i = 0; i < trials.size(); ++i)
    if (trials[i]->state == TrialState::complete && trials[i]->value() - fn.optimum < target)
      return static_cast<double>(i + 1);
  return static_cast<double>(trials.size() + 1);
}

TrialPtr make_trial(int64_t number, TrialState state, std::vector<double> values, double x) {
  auto t = std::make_shared<FrozenTrial>();
  t->number = t->id = number;
  t->state = state;
  t->values = std::move(values);
  t->params["x"] = x;
  t->distributions["x"] = make_float("x", 0, 10, false, std::nullopt);
  return t;
}

double quadratic(Trial& t) {
  const double x = t.suggest_float("x", -5, 5);
  const int64_t n = t.suggest_int("n", 1, 8);
  return x * x + static_cast<double>(n);
}

}  // namespace

TEST_CASE("best_first ranks by value, or front by front with the last front cut by hypervolume") {
  const std::vector<Direction> minimize = {Direction::minimize};
  const std::vector<Direction> maximize = {Direction::maximize};
  const std::vector<std::vector<double>> values = {{3}, {1}, {2}, {1}, {5}};
  CHECK(best_first(values, minimize, 3) == std::vector<size_t>{1, 3, 2});
  CHECK(best_first(values, maximize, 2) == std::vector<size_t>{4, 0});
  CHECK(best_first(values, minimize, 9).size() == 5);

  const std::vector<Direction> min2 = {Direction::minimize, Direction::minimize};
  // Fronts {A, B, C}, {D}, {E}; reference (6.5, 6.5), as in the MOTPE split test.
  const std::vector<std::vector<double>> points = {{1, 5}, {2, 2}, {5, 1}, {3, 3}, {6, 6}};
  CHECK(hypervolume_reference(points, min2) == std::vector<double>{6.5, 6.5});
  // B's box alone is the largest (20.25); next to it A and C add 1.5 each, A comes first.
  CHECK(best_first(points, min2, 1) == std::vector<size_t>{1});
  CHECK(best_first(points, min2, 2) == std::vector<size_t>{1, 0});
  // Whole fronts keep index order.
  CHECK(best_first(points, min2, 4) == std::vector<size_t>{0, 1, 2, 3});
  const auto contributions = hypervolume_contributions(points, std::vector<double>{6.5, 6.5}, min2);
  // A adds [1, 2] x [5, 6.5] and C [5, 6.5] x [1, 2]; B adds [2, 5] x [2, 5] less the part D
  // covers too, [3, 5] x [3, 5]: 9 - 4.
  CHECK(contributions[0] == doctest::Approx(1.5));
  CHECK(contributions[1] == doctest::Approx(5));
  CHECK(contributions[2] == doctest::Approx(1.5));
  CHECK(contributions[3] == 0);
  CHECK(contributions[4] == 0);
  // A maximized objective turns its axis round: (5, 1) is now the best corner for both.
  const std::vector<Direction> mixed = {Direction::maximize, Direction::minimize};
  CHECK(best_first(points, mixed, 1) == std::vector<size_t>{2});
  CHECK(hypervolume_reference(points, mixed) == std::vector<double>{0.5, 6.5});
}

TEST_CASE("enqueue_best runs the source's best configurations first, best first") {
  Study source = create_study({.sampler = std::make_shared<RandomSampler>(1)});
  source.optimize(quadratic, {.n_trials = 30});
  auto ranked = source.trials();
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a->value() < b->value(); });
  Study target = create_study({.sampler = std::make_shared<TpeSampler>(TpeOptions{}, 2)});
  const auto trials = source.trials();
  CHECK(enqueue_best(target, trials, 3) == 3);
  target.optimize(quadratic, {.n_trials = 5});
  const auto run = target.trials();
  REQUIRE(run.size() == 5);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(run[i]->params == ranked[i]->params);
    CHECK(run[i]->value() == ranked[i]->value());
  }
  CHECK(target.best_value() == ranked[0]->value());
  // A source ranked in its own direction: its largest values come first.
  Study upside = create_study({.sampler = std::make_shared<RandomSampler>(3)});
  const std::vector<Direction> maximize = {Direction::maximize};
  CHECK(enqueue_best(upside, trials, 1, maximize) == 1);
  upside.optimize(quadratic, {.n_trials = 1});
  CHECK(upside.trials()[0]->value() == ranked.back()->value());
}

TEST_CASE("enqueue_best puts the Pareto front first for several objectives") {
  const std::vector<Direction> min2 = {Direction::minimize, Direction::minimize};
  Study source = create_study({.directions = min2, .sampler = std::make_shared<RandomSampler>(4)});
  source.optimize(zdt_objective(3, false), {.n_trials = 40});
  const auto front = source.best_trials();
  REQUIRE(front.size() >= 3);
  Study target = create_study({.directions = min2, .sampler = std::make_shared<RandomSampler>(5)});
  const auto trials = source.trials();
  CHECK(enqueue_best(target, trials, 3) == 3);
  target.optimize(zdt_objective(3, false), {.n_trials = 3});
  for (const auto& t : target.trials()) {
    const bool on_front = std::any_of(front.begin(), front.end(),
                                      [&](const auto& f) { return f->params == t->params; });
    CHECK(on_front);
  }
}

TEST_CASE("an enqueued value outside the target's range fails its trial, naming it") {
  Study source = create_study({.sampler = std::make_shared<RandomSampler>(6)});
  source.optimize(quadratic, {.n_trials = 20});
  Study narrow = create_study({.sampler = std::make_shared<RandomSampler>(7)});
  const auto trials = source.trials();
  enqueue_best(narrow, trials, 1);
  narrow.optimize([](Trial& t) { return t.suggest_float("x", 10, 20); }, {.n_trials = 1});
  const auto t = narrow.trials()[0];
  CHECK(t->state == TrialState::failed);
  const std::string reason = t->system_attrs["fail_reason"];
  CHECK(reason.find("enqueue_trial: parameter 'x' = ") == 0);
  CHECK(reason.find("is not in {\"high\":20.0") != std::string::npos);
  CHECK_THROWS_AS(enqueue_best(narrow, trials, -1), nabla::ValueError);
}

TEST_CASE("prior trials join both groups with their weight and count towards the start-up") {
  const std::vector<Direction> minimize = {Direction::minimize};
  std::vector<TrialPtr> own, prior;
  for (int64_t i = 0; i < 10; ++i)
    own.push_back(make_trial(i, TrialState::complete, {double(i)}, 1));
  // Twenty earlier trials, best at x near 8; a failed one is skipped.
  for (int64_t i = 0; i < 20; ++i)
    prior.push_back(
        make_trial(i, TrialState::complete, {std::abs(8 - 0.5 * double(i))}, 0.5 * double(i)));
  prior.push_back(make_trial(20, TrialState::failed, {}, 0));
  const TpeOptions options{.prior_trials = {.trials = prior, .weight = 0.3}};
  const TpeSplit split = tpe_split(own, minimize, options);
  // gamma(10) = 1 of the study's own, then gamma(20) = 2 of the prior's, ranked among themselves:
  // x = 8 (value 0) and the earlier of the two at distance 0.5, x = 7.5.
  REQUIRE(split.good.trials.size() == 3);
  CHECK(split.good.trials[0] == own[0]);
  CHECK(split.good.trials[1] == prior[15]);
  CHECK(split.good.trials[2] == prior[16]);
  CHECK(split.good.weights == std::vector<double>{1, 0.3, 0.3});
  CHECK(split.bad.trials.size() == 9 + 18);
  CHECK(split.bad.weights.back() == 0.3);

  // With 20 prior trials the start-up (10) is over before the study's first trial: it is drawn
  // from the model, near x = 8, on the study's own (narrower) range where the prior's x > 9 drop.
  std::vector<double> first;
  for (uint64_t seed = 0; seed < 9; ++seed) {
    Study study = create_study({.sampler = std::make_shared<TpeSampler>(
                                    TpeOptions{.prior_trials = {.trials = prior}}, seed)});
    study.optimize([](Trial& t) { return std::abs(t.suggest_float("x", 0, 9) - 8); },
                   {.n_trials = 1});
    first.push_back(std::abs(std::get<double>(study.trials()[0]->params.at("x")) - 8));
  }
  CHECK(median(first) < 1.0);  // uniform draws on [0, 9] would be 2.5 away in the median
}

TEST_CASE("prior trials are checked: finished, positive weight, as many values as objectives") {
  auto running = std::make_shared<FrozenTrial>();
  running->number = 3;
  CHECK_THROWS_WITH_AS(TpeSampler(TpeOptions{.prior_trials = {.trials = {running}}}),
                       "TpeOptions::prior_trials: trial 0 (number 3) is running, not finished",
                       nabla::ValueError);
  CHECK_THROWS_WITH_AS(TpeSampler(TpeOptions{.prior_trials = {.weight = 0}}),
                       "TpeOptions::prior_trials: weight must be finite and > 0, got 0",
                       nabla::ValueError);
  CHECK_THROWS_WITH_AS(TpeSampler(TpeOptions{.prior_trials = {.trials = {nullptr}}}),
                       "TpeOptions::prior_trials: trial 0 is null", nabla::ValueError);
  std::vector<TrialPtr> two_objectives;
  for (int64_t i = 0; i < 10; ++i)
    two_objectives.push_back(make_trial(i, TrialState::complete, {1, 2}, 1));
  Study study = create_study({.sampler = std::make_shared<TpeSampler>(
                                  TpeOptions{.prior_trials = {.trials = two_objectives}}, 1)});
  CHECK_THROWS_WITH_AS(study.optimize([](Trial& t) { return t.suggest_float("x", 0, 1); },
                                      {.n_trials = 1, .catch_errors = false}),
                       "TpeSampler: trial 0 has 2 values for a study of 1 objectives",
                       nabla::ValueError);
}

TEST_CASE("a Branin study seeded with an earlier one reaches regret 0.1 sooner than a cold one") {
  // The earlier study: 50 TPE trials on Branin (seeds 1000-1009). Each new study runs up to 150
  // trials (seeds 0-9); what counts is the first trial within 0.1 of the optimum.
  const TestFunction& branin = single_objective_functions()[0];
  std::vector<double> source_regret, cold, prior, enqueued, both;
  for (uint64_t seed = 0; seed < 10; ++seed) {
    Study source =
        create_study({.sampler = std::make_shared<TpeSampler>(TpeOptions{}, 1000 + seed)});
    source.optimize(objective_of(branin), {.n_trials = 50});
    source_regret.push_back(regret(source, branin));
    const auto earlier = source.trials();
    const TpeOptions warm{.prior_trials = {.trials = earlier}};
    Study c = create_study({.sampler = std::make_shared<TpeSampler>(TpeOptions{}, seed)});
    Study p = create_study({.sampler = std::make_shared<TpeSampler>(warm, seed)});
    Study e = create_study({.sampler = std::make_shared<TpeSampler>(TpeOptions{}, seed)});
    Study b = create_study({.sampler = std::make_shared<TpeSampler>(warm, seed)});
    enqueue_best(e, earlier, 5);
    enqueue_best(b, earlier, 5);
    for (Study* s : {&c, &p, &e, &b}) s->optimize(objective_of(branin), {.n_trials = 150});
    cold.push_back(trials_to_reach(c, branin, 0.1));
    prior.push_back(trials_to_reach(p, branin, 0.1));
    enqueued.push_back(trials_to_reach(e, branin, 0.1));
    both.push_back(trials_to_reach(b, branin, 0.1));
  }
  MESSAGE(
      "Branin, trials to regret < 0.1, median over seeds 0-9 (the earlier studies' own regret "
      "after 50 trials: "
      << median(source_regret) << "): cold " << median(cold) << ", prior trials " << median(prior)
      << ", enqueue_best(5) " << median(enqueued) << ", both " << median(both));
  CHECK(median(prior) < median(cold));
  CHECK(median(both) < median(cold));
}
