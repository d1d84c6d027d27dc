// Pruners on hand-built histories (percentile and median, threshold, ASHA, Hyperband; one
// objective and several) and over studies: decisions, promotion counts and bracket shares.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "core/error.h"
#include "hpo/hpo.h"
#include "hpo/pruners/ranking.h"

using namespace nabla::hpo;

namespace {

const std::vector<Direction> kMinimize = {Direction::minimize};
const std::vector<Direction> kMaximize = {Direction::maximize};
const std::vector<Direction> kMin2 = {Direction::minimize, Direction::minimize};
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

FrozenTrial make_trial(int64_t number, TrialState state,
                       std::map<int64_t, std::vector<double>> reports) {
  FrozenTrial t;
  t.id = t.number = number;
  t.state = state;
  t.intermediate_values = std::move(reports);
  return t;
}

// A trial reporting `value` at every step of `steps`.
FrozenTrial flat_trial(int64_t number, TrialState state, std::vector<double> value,
                       std::vector<int64_t> steps) {
  std::map<int64_t, std::vector<double>> reports;
  for (int64_t s : steps) reports[s] = value;
  return make_trial(number, state, std::move(reports));
}

TrialPtr share(FrozenTrial t) { return std::make_shared<const FrozenTrial>(std::move(t)); }

bool prunes(Pruner& pruner, const std::vector<TrialPtr>& history, const FrozenTrial& trial,
            const std::vector<Direction>& directions) {
  return pruner.prune(PrunerContext{history, trial, directions});
}

// Complete trials 0..4 reporting 1, 2, 3, 4, 5 at steps 0..4.
std::vector<TrialPtr> five_peers() {
  std::vector<TrialPtr> history;
  for (int64_t i = 0; i < 5; ++i)
    history.push_back(share(flat_trial(i, TrialState::complete, {double(i + 1)}, {0, 1, 2, 3, 4})));
  return history;
}

FrozenTrial asking(std::map<int64_t, std::vector<double>> reports) {
  return make_trial(99, TrialState::running, std::move(reports));
}

}  // namespace

TEST_CASE("median pruner: worse than the peers' median at the step is pruned") {
  const auto history = five_peers();
  MedianPruner median;  // n_startup_trials = 5
  CHECK(prunes(median, history, asking({{2, {3.5}}}), kMinimize));
  CHECK(!prunes(median, history, asking({{2, {2.5}}}), kMinimize));
  CHECK(!prunes(median, history, asking({{2, {3.0}}}), kMinimize));  // equal to the median
  // The trial's best report over its steps is what counts (Optuna).
  CHECK(!prunes(median, history, asking({{0, {2.0}}, {2, {10.0}}}), kMinimize));
  CHECK(prunes(median, history, asking({{0, {kNaN}}, {2, {kNaN}}}), kMinimize));
  // Maximize: below the median is pruned.
  CHECK(prunes(median, history, asking({{2, {2.5}}}), kMaximize));
  CHECK(!prunes(median, history, asking({{2, {3.5}}}), kMaximize));
  CHECK(!prunes(median, history, asking({}), kMinimize));
}

TEST_CASE("median pruner: startup trials count complete ones only, warm-up, intervals") {
  auto history = five_peers();
  history.pop_back();
  history.push_back(share(flat_trial(4, TrialState::pruned, {9.0}, {0, 1, 2})));
  MedianPruner median;
  CHECK(!prunes(median, history, asking({{2, {4.5}}}), kMinimize));  // 4 complete < 5
  MedianPruner early({.n_startup_trials = 4});
  CHECK(prunes(early, history, asking({{2, {4.5}}}), kMinimize));  // median of 1..4 is 2.5

  const auto peers = five_peers();
  MedianPruner warm({.n_warmup_steps = 3});
  CHECK(!prunes(warm, peers, asking({{2, {4.5}}}), kMinimize));
  CHECK(prunes(warm, peers, asking({{3, {4.5}}}), kMinimize));

  // Intervals of 2 from step 1: steps 1, 3 start them; a report is judged when the one before
  // it lies below its interval's start.
  MedianPruner every_two({.n_warmup_steps = 1, .interval_steps = 2});
  CHECK(prunes(every_two, peers, asking({{0, {9.0}}, {1, {9.0}}}), kMinimize));
  CHECK(!prunes(every_two, peers, asking({{0, {9.0}}, {1, {9.0}}, {2, {9.0}}}), kMinimize));
  CHECK(prunes(every_two, peers, asking({{1, {9.0}}, {2, {9.0}}, {3, {9.0}}}), kMinimize));
  CHECK(!prunes(every_two, peers, asking({{1, {9.0}}, {3, {9.0}}, {4, {9.0}}}), kMinimize));
  CHECK(prunes(every_two, peers, asking({{0, {9.0}}, {4, {9.0}}}), kMinimize));

  MedianPruner needs_six({.n_min_trials = 6});
  CHECK(!prunes(needs_six, peers, asking({{2, {4.5}}}), kMinimize));
  CHECK_THROWS_AS(MedianPruner({.interval_steps = 0}), nabla::ValueError);
}

TEST_CASE("percentile pruner interpolates like numpy, from the best side") {
  const auto peers = five_peers();
  PercentilePruner p25({.percentile = 25});  // minimize: the 25th percentile of 1..5 is 2
  CHECK(prunes(p25, peers, asking({{1, {2.5}}}), kMinimize));
  CHECK(!prunes(p25, peers, asking({{1, {2.0}}}), kMinimize));
  // Maximize: the 75th percentile, 4.
  CHECK(prunes(p25, peers, asking({{1, {3.5}}}), kMaximize));
  CHECK(!prunes(p25, peers, asking({{1, {4.5}}}), kMaximize));
  PercentilePruner p10({.percentile = 10});  // 1 + 0.1 * 4 = 1.4
  CHECK(prunes(p10, peers, asking({{1, {1.5}}}), kMinimize));
  CHECK(!prunes(p10, peers, asking({{1, {1.3}}}), kMinimize));
  PercentilePruner p100({.percentile = 100});
  CHECK(!prunes(p100, peers, asking({{1, {5.0}}}), kMinimize));
  CHECK(prunes(p100, peers, asking({{1, {5.1}}}), kMinimize));
  CHECK_THROWS_AS(PercentilePruner({.percentile = 101}), nabla::ValueError);
}

TEST_CASE("percentile pruner for two objectives compares front indices") {
  // Peers at step 1: fronts 0: (1,5) (2,3) (4,2); then (3,4); then (5,5).
  std::vector<TrialPtr> peers;
  const std::vector<std::vector<double>> points = {{1, 5}, {2, 3}, {4, 2}, {3, 4}, {5, 5}};
  for (size_t i = 0; i < points.size(); ++i)
    peers.push_back(share(flat_trial(int64_t(i), TrialState::complete, points[i], {0, 1})));
  MedianPruner median;
  // (2.5, 3.5): behind (2, 3), ahead of (3, 4): front 1, above the peers' median front 0.
  CHECK(prunes(median, peers, asking({{1, {2.5, 3.5}}}), kMin2));
  CHECK(!prunes(median, peers, asking({{1, {1.5, 4}}}), kMin2));  // on the Pareto front
  CHECK(prunes(median, peers, asking({{1, {6, 6}}}), kMin2));
  CHECK(prunes(median, peers, asking({{1, {kNaN, 1}}}), kMin2));
  // The 80th percentile of the peers' fronts {0, 0, 0, 2, 3} is 2.2: front 1 stays.
  PercentilePruner p80({.percentile = 80});
  CHECK(!prunes(p80, peers, asking({{1, {2.5, 3.5}}}), kMin2));
  CHECK(prunes(p80, peers, asking({{1, {6, 6}}}), kMin2));  // front 3 > 1.2 with (6, 6) in
  // A Pareto-optimal report is never pruned, even at the 0th percentile.
  PercentilePruner p0({.percentile = 0});
  CHECK(!prunes(p0, peers, asking({{1, {1.5, 4}}}), kMin2));
  CHECK(prunes(p0, peers, asking({{1, {3, 3.5}}}), kMin2));
}

TEST_CASE("threshold pruner: outside the bounds or NaN, per objective") {
  ThresholdPruner band({.lower = {0}, .upper = {1}});
  CHECK(!prunes(band, {}, asking({{0, {0.5}}}), kMinimize));
  CHECK(prunes(band, {}, asking({{0, {-0.1}}}), kMinimize));
  CHECK(prunes(band, {}, asking({{0, {1.1}}}), kMinimize));
  CHECK(prunes(band, {}, asking({{0, {kNaN}}}), kMinimize));
  ThresholdPruner upper({.upper = {1}});
  CHECK(!prunes(upper, {}, asking({{0, {-100}}}), kMinimize));
  ThresholdPruner warm({.upper = {1}, .n_warmup_steps = 2});
  CHECK(!prunes(warm, {}, asking({{1, {5}}}), kMinimize));
  CHECK(prunes(warm, {}, asking({{1, {5}}, {2, {5}}}), kMinimize));
  ThresholdPruner every_two({.upper = {1}, .interval_steps = 2});
  CHECK(!prunes(every_two, {}, asking({{0, {.5}}, {1, {.5}}, {2, {.5}}, {3, {5}}}), kMinimize));
  CHECK(prunes(every_two, {}, asking({{0, {.5}}, {1, {.5}}, {2, {5}}}), kMinimize));

  ThresholdPruner two({.lower = {-kInf, 0}, .upper = {1, kInf}});
  CHECK(!prunes(two, {}, asking({{0, {0.5, 3}}}), kMin2));
  CHECK(prunes(two, {}, asking({{0, {2, 3}}}), kMin2));
  CHECK(prunes(two, {}, asking({{0, {0.5, -1}}}), kMin2));
  CHECK_THROWS_AS(prunes(two, {}, asking({{0, {0.5}}}), kMinimize), nabla::ValueError);
  CHECK_THROWS_AS(ThresholdPruner({}), nabla::ValueError);
  CHECK_THROWS_AS(ThresholdPruner({.lower = {2}, .upper = {1}}), nabla::ValueError);
}

TEST_CASE("the report order on hand-computed fronts") {
  const auto order = ranking::rank_order({{0, 5}, {1, 2}, {3, 1}, {4, 0}, {2, 3}}, kMin2);
  CHECK(order == std::vector<size_t>{0, 3, 1, 2, 4});
  // One objective: plain value order, ties in index order; maximize reverses it.
  CHECK(ranking::rank_order({{3}, {1}, {2}, {1}}, kMinimize) == std::vector<size_t>{1, 3, 2, 0});
  CHECK(ranking::rank_order({{3}, {1}, {2}, {1}}, kMaximize) == std::vector<size_t>{0, 2, 1, 3});
}

TEST_CASE("ASHA pruner: at a rung, promoted iff in the top 1/eta of the rung's values") {
  std::vector<TrialPtr> history;  // values 1..5 at steps 1..4, in any finished state
  for (int64_t i = 0; i < 5; ++i)
    history.push_back(share(flat_trial(i, i % 2 ? TrialState::pruned : TrialState::complete,
                                       {double(i + 1)}, {1, 2, 3, 4})));
  SuccessiveHalvingPruner asha({.min_resource = 1, .reduction_factor = 3});
  // Six values at rung 1 (step 1): the best floor(6 / 3) = 2 go on.
  CHECK(!prunes(asha, history, asking({{1, {1.5}}}), kMinimize));
  CHECK(!prunes(asha, history, asking({{1, {2.0}}}), kMinimize));  // ties the 2nd best
  CHECK(prunes(asha, history, asking({{1, {2.5}}}), kMinimize));
  CHECK(!prunes(asha, history, asking({{1, {4.5}}}), kMaximize));
  CHECK(prunes(asha, history, asking({{1, {3.5}}}), kMaximize));
  // Step 2 is no rung: judged at step 1 already.
  CHECK(!prunes(asha, history, asking({{1, {1.5}}, {2, {9}}}), kMinimize));
  // Rung 3 (step 3): peers' values there are 1..5 again.
  CHECK(prunes(asha, history, asking({{1, {1.5}}, {2, {9}}, {3, {2.5}}}), kMinimize));
  // A report jumping over rungs 1 and 3 is judged at both with its own value.
  CHECK(prunes(asha, history, asking({{0, {0}}, {5, {2.5}}}), kMinimize));
  CHECK(!prunes(asha, history, asking({{0, {0}}, {5, {1.5}}}), kMinimize));
  // The first trial at a rung always goes on; NaN at a rung is pruned, NaN elsewhere is not.
  CHECK(!prunes(asha, {}, asking({{1, {100}}}), kMinimize));
  CHECK(prunes(asha, {}, asking({{1, {kNaN}}}), kMinimize));
  CHECK(!prunes(asha, {}, asking({{1, {1}}, {2, {kNaN}}}), kMinimize));

  // min_early_stopping_rate 1: rungs at 3, 9, ...
  SuccessiveHalvingPruner late({.reduction_factor = 3, .min_early_stopping_rate = 1});
  CHECK(!prunes(late, history, asking({{1, {9}}}), kMinimize));
  CHECK(prunes(late, history, asking({{1, {9}}, {3, {9}}}), kMinimize));
  // Peers that jumped from step 4 to 10 count at rung 9 with their step-10 value.
  std::vector<TrialPtr> far = history;
  for (int64_t i = 5; i < 8; ++i)
    far.push_back(share(flat_trial(i, TrialState::complete, {double(i - 4)}, {1, 4, 10})));
  CHECK(prunes(late, far, asking({{3, {1}}, {9, {1.5}}}), kMinimize));  // 4 values: keep 1
  CHECK(!prunes(late, far, asking({{3, {1}}, {9, {0.5}}}), kMinimize));
  // max_resource 9: the rung at 9 is the top one and judges nobody.
  SuccessiveHalvingPruner capped(
      {.reduction_factor = 3, .min_early_stopping_rate = 1, .max_resource = 9});
  CHECK(!prunes(capped, far, asking({{3, {1}}, {9, {1.5}}}), kMinimize));
  CHECK_THROWS_AS(SuccessiveHalvingPruner({.reduction_factor = 1}), nabla::ValueError);
}

TEST_CASE("ASHA pruner for two objectives ranks by front, then crowding distance") {
  std::vector<TrialPtr> history;
  const std::vector<std::vector<double>> points = {{1, 5}, {2, 3}, {4, 2}, {3, 4}, {5, 5}};
  for (size_t i = 0; i < points.size(); ++i)
    history.push_back(share(flat_trial(int64_t(i), TrialState::complete, points[i], {1})));
  SuccessiveHalvingPruner halves({.reduction_factor = 2});          // 6 values: the best 3 go on
  CHECK(!prunes(halves, history, asking({{1, {0.5, 1}}}), kMin2));  // dominates all
  CHECK(prunes(halves, history, asking({{1, {6, 6}}}), kMin2));
  CHECK(prunes(halves, history, asking({{1, {2.5, 3.5}}}), kMin2));  // front 1
  // On the front: a boundary point (infinite crowding distance) goes on; the interior (1.5, 4),
  // crowding 1.0, trails (1, 5), (4, 2) (boundaries) and (2, 3) (crowding 1.5).
  CHECK(!prunes(halves, history, asking({{1, {0.5, 6}}}), kMin2));
  CHECK(prunes(halves, history, asking({{1, {1.5, 4}}}), kMin2));
}

TEST_CASE("ASHA over a study: every decision follows the rule, counts per rung") {
  const int64_t n = 243;
  Study study = create_study(
      {.sampler = std::make_shared<RandomSampler>(21),
       .pruner = std::make_shared<SuccessiveHalvingPruner>(SuccessiveHalvingPrunerOptions{
           .min_resource = 1, .reduction_factor = 3, .max_resource = 27})});
  study.optimize(
      [](Trial& t) {
        const double x = t.suggest_float("x", 0, 1);
        double value = 0;
        for (int64_t step = 1; step <= 27; ++step) {
          // The ranking shifts with the step, so rungs disagree.
          value = (x - 0.5) * (x - 0.5) + 0.05 * std::sin(40 * x + double(step)) / double(step);
          t.report(step, value);
          if (t.should_prune()) throw TrialPruned();
        }
        return value;
      },
      {.n_trials = n});
  const auto trials = study.trials();
  std::map<int64_t, int64_t> reached;  // rung step -> trials reporting there
  int64_t decisions = 0, mismatches = 0;
  for (const auto& t : trials) {
    for (int64_t rung : {1, 3, 9}) {
      if (!t->intermediate_values.contains(rung)) continue;
      ++reached[rung];
      const double mine = t->intermediate_values.at(rung)[0];
      int64_t count = 1, better = 0;
      for (const auto& u : trials) {
        if (u->number >= t->number || !u->intermediate_values.contains(rung)) continue;
        ++count;
        better += u->intermediate_values.at(rung)[0] < mine;
      }
      const bool promoted = better < std::max<int64_t>(1, count / 3);
      ++decisions;
      mismatches += promoted != t->intermediate_values.contains(rung + 1);
    }
    reached[27] += t->intermediate_values.contains(27);
  }
  CHECK(decisions == reached[1] + reached[3] + reached[9]);
  CHECK(mismatches == 0);
  CHECK(reached[1] == n);
  // Decisions at arrival favour early trials (the first always goes on), so the share promoted
  // is near, not at, 1/3: 79 of 243 here.
  MESSAGE("ASHA, 243 trials, eta 3: reached steps 1, 3, 9, 27: ", reached[1], ", ", reached[3],
          ", ", reached[9], ", ", reached[27]);
  CHECK(std::abs(double(reached[3]) / double(reached[1]) - 1.0 / 3) < 0.1);
  CHECK(std::abs(double(reached[9]) / double(reached[3]) - 1.0 / 3) < 0.15);
  for (const auto& t : trials)
    if (t->state == TrialState::pruned) CHECK(t->values == t->intermediate_values.rbegin()->second);
}

TEST_CASE("ASHA over a study: rung arrivals alternating best and worst promote ceil(n / eta)") {
  // The m-th arrival at a rung reports a new best when m % 3 == 0 and a new worst otherwise: it
  // goes on exactly when m % 3 == 0, so ceil(n / 3) of n arrivals reach the next rung.
  std::map<int64_t, int64_t> arrivals;
  Study study = create_study(
      {.sampler = std::make_shared<RandomSampler>(22),
       .pruner = std::make_shared<SuccessiveHalvingPruner>(SuccessiveHalvingPrunerOptions{
           .min_resource = 1, .reduction_factor = 3, .max_resource = 27})});
  study.optimize(
      [&](Trial& t) {
        double value = 0;
        for (int64_t step : {1, 3, 9, 27}) {
          const int64_t m = arrivals[step]++;
          value = m % 3 == 0 ? -double(m + 1) : 1000.0 + double(m);
          t.report(step, value);
          if (t.should_prune()) throw TrialPruned();
        }
        return value;
      },
      {.n_trials = 100});
  CHECK(arrivals == std::map<int64_t, int64_t>{{1, 100}, {3, 34}, {9, 12}, {27, 4}});
  int64_t complete = 0;
  for (const auto& t : study.trials()) complete += t->state == TrialState::complete;
  CHECK(complete == 4);
}

TEST_CASE("Hyperband pruner: bracket shares from Hyperband's n, interleaved by trial number") {
  HyperbandPruner classic({.min_resource = 1, .max_resource = 81, .reduction_factor = 3});
  REQUIRE(classic.n_brackets() == 5);
  std::vector<int64_t> shares, counts(5, 0), first_ten;
  for (int64_t b = 0; b < 5; ++b) shares.push_back(classic.bracket_trials(b));
  CHECK(shares == std::vector<int64_t>{81, 34, 15, 8, 5});
  for (int64_t k = 143; k < 286; ++k) ++counts[size_t(classic.bracket_of(k))];
  CHECK(counts == shares);
  std::set<int64_t> early;
  for (int64_t k = 0; k < 10; ++k) early.insert(classic.bracket_of(k));
  CHECK(early.size() >= 3);

  HyperbandPruner small({.max_resource = 27});
  std::vector<int64_t> small_shares;
  for (int64_t b = 0; b < small.n_brackets(); ++b) small_shares.push_back(small.bracket_trials(b));
  CHECK(small_shares == std::vector<int64_t>{27, 12, 6, 4});
}

TEST_CASE("Hyperband pruner compares a trial only within its bracket, from its first rung") {
  HyperbandPruner hb({.min_resource = 1, .max_resource = 81, .reduction_factor = 3});
  std::map<int64_t, std::vector<int64_t>> numbers;  // bracket -> trial numbers
  for (int64_t k = 0; k < 143; ++k) numbers[hb.bracket_of(k)].push_back(k);
  // Bracket 0 judges from step 1; bracket 2 (min_early_stopping_rate 2) from step 9.
  std::vector<TrialPtr> history;
  for (int64_t k : {numbers[0][0], numbers[0][1], numbers[0][2]})
    history.push_back(share(flat_trial(k, TrialState::complete, {0.0}, {1, 3, 9})));
  const int64_t in_two = numbers[2][1];
  auto from_two = [&](std::map<int64_t, std::vector<double>> reports) {
    return make_trial(in_two, TrialState::running, std::move(reports));
  };
  // Better trials of bracket 0 do not count for a trial of bracket 2.
  CHECK(!prunes(hb, history, from_two({{9, {5.0}}}), kMinimize));
  history.push_back(share(flat_trial(numbers[2][0], TrialState::complete, {1.0}, {1, 3, 9})));
  CHECK(!prunes(hb, history, from_two({{1, {5.0}}}), kMinimize));
  CHECK(!prunes(hb, history, from_two({{1, {5.0}}, {3, {5.0}}}), kMinimize));
  CHECK(prunes(hb, history, from_two({{1, {5.0}}, {3, {5.0}}, {9, {5.0}}}), kMinimize));
  // A bracket-0 trial meets the three bracket-0 peers at step 1.
  const FrozenTrial zero = make_trial(numbers[0][3], TrialState::running, {{1, {0.5}}});
  CHECK(prunes(hb, history, zero, kMinimize));
}

TEST_CASE("pruning a two-objective study prunes dominated trials and keeps Pareto-optimal ones") {
  Study study = create_study(
      {.directions = kMin2,
       .sampler = std::make_shared<RandomSampler>(23),
       .pruner = std::make_shared<MedianPruner>(MedianPrunerOptions{.n_startup_trials = 5})});
  // Five trials on the front f = (x, 1 - x), then three more: shifted off it or on it.
  for (double x : {0.1, 0.3, 0.5, 0.7, 0.9}) study.enqueue_trial({{"x", x}, {"shift", 0.0}});
  study.enqueue_trial({{"x", 0.5}, {"shift", 0.5}});
  study.enqueue_trial({{"x", 0.2}, {"shift", 0.0}});
  study.enqueue_trial({{"x", 0.95}, {"shift", -0.01}});
  study.optimize(
      [](Trial& t) {
        const double x = t.suggest_float("x", 0, 1);
        const double shift = t.suggest_float("shift", -1, 1);
        std::vector<double> f;
        for (int64_t step = 0; step < 3; ++step) {
          f = {x + shift, 1 - x + shift};
          t.report(step, f);
          if (t.should_prune()) throw TrialPruned();
        }
        return f;
      },
      {.n_trials = 8});
  const auto trials = study.trials();
  for (int i = 0; i < 5; ++i) CHECK(trials[size_t(i)]->state == TrialState::complete);
  CHECK(trials[5]->state == TrialState::pruned);
  CHECK(trials[5]->intermediate_values.size() == 1);  // pruned at its first report
  CHECK(trials[5]->values == std::vector<double>{1.0, 1.0});
  CHECK(trials[6]->state == TrialState::complete);
  CHECK(trials[7]->state == TrialState::complete);
  CHECK(study.best_trials().size() == 7);
}
