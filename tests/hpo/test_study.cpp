// Studies over the in-memory storage: define-by-run suggestions, trial states, enqueued trials,
// threads, reproducibility, the best trials, repeated configurations and export.
#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <sstream>
#include <thread>

#include "core/error.h"
#include "hpo/hpo.h"

using namespace nabla::hpo;

namespace {

Study random_study(uint64_t seed, std::vector<Direction> directions = {Direction::minimize}) {
  return create_study({.directions = directions, .sampler = std::make_shared<RandomSampler>(seed)});
}

double quadratic(Trial& t) {
  const double x = t.suggest_float("x", -5, 5);
  const int64_t n = t.suggest_int("n", 1, 8);
  return x * x + static_cast<double>(n);
}

std::vector<std::map<std::string, ParamValue>> params_of(const Study& study) {
  std::vector<std::map<std::string, ParamValue>> out;
  for (const auto& t : study.trials()) out.push_back(t->params);
  return out;
}

}  // namespace

TEST_CASE("suggestions respect their distributions and repeat within a trial") {
  Study study = random_study(1);
  study.optimize(
      [](Trial& t) {
        const double lr = t.suggest_float("lr", 1e-5, 1e-1, {.log = true});
        const double drop = t.suggest_float("dropout", 0.0, 0.5, {.step = 0.1});
        const int64_t width = t.suggest_int("width", 16, 256, {.log = true});
        const int64_t depth = t.suggest_int("depth", 2, 10, {.step = 2});
        const std::string opt = t.suggest_categorical("optimizer", {"sgd", "adam"});
        const int64_t batch = t.suggest_categorical("batch", {32, 64, 128});
        CHECK(lr >= 1e-5);
        CHECK(lr <= 1e-1);
        CHECK(std::abs(drop * 10 - std::round(drop * 10)) < 1e-9);
        CHECK(width >= 16);
        CHECK(width <= 256);
        CHECK(depth % 2 == 0);
        CHECK((opt == "sgd" || opt == "adam"));
        CHECK((batch == 32 || batch == 64 || batch == 128));
        CHECK(t.suggest_float("lr", 1e-5, 1e-1, {.log = true}) == lr);
        CHECK_THROWS_AS(t.suggest_float("lr", 0.0, 1.0), nabla::ValueError);
        return lr;
      },
      {.n_trials = 30});
  CHECK(study.trials().size() == 30);
  for (const auto& t : study.trials()) CHECK(t->state == TrialState::complete);
}

TEST_CASE("conditional spaces arise from the objective's own branches") {
  Study study = random_study(2);
  study.optimize(
      [](Trial& t) {
        if (t.suggest_categorical("model", {"linear", "tree"}) == "linear")
          return t.suggest_float("alpha", 0.0, 1.0);
        return static_cast<double>(t.suggest_int("depth", 1, 5));
      },
      {.n_trials = 40});
  for (const auto& t : study.trials()) {
    const bool linear = std::get<std::string>(t->params.at("model")) == "linear";
    CHECK(t->params.contains("alpha") == linear);
    CHECK(t->params.contains("depth") == !linear);
  }
}

TEST_CASE("an exception fails its trial with the message, and the study goes on") {
  Study study = random_study(3);
  int calls = 0;
  study.optimize(
      [&](Trial& t) {
        ++calls;
        const double x = t.suggest_float("x", 0, 1);
        if (t.number() == 2) throw std::runtime_error("out of memory");
        if (t.number() == 3) return std::nan("");
        return x;
      },
      {.n_trials = 6});
  CHECK(calls == 6);
  auto trials = study.trials();
  CHECK(trials[2]->state == TrialState::failed);
  CHECK(trials[2]->system_attrs["fail_reason"] == "out of memory");
  CHECK(trials[3]->state == TrialState::failed);
  CHECK(trials[4]->state == TrialState::complete);

  Study strict = random_study(3);
  CHECK_THROWS_WITH_AS(strict.optimize([](Trial&) -> double { throw std::runtime_error("boom"); },
                                       {.n_trials = 3, .catch_errors = false}),
                       "boom", std::runtime_error);
  CHECK(strict.trials().size() == 1);
  CHECK(strict.trials()[0]->state == TrialState::failed);
}

TEST_CASE("a pruned trial keeps its last report as its value") {
  Study study = random_study(4);
  study.optimize(
      [](Trial& t) -> double {
        t.report(0, 5.0);
        t.report(1, 4.0);
        t.report(1, 99.0);  // a repeated step keeps the first value
        throw TrialPruned();
      },
      {.n_trials = 1});
  auto t = study.trials()[0];
  CHECK(t->state == TrialState::pruned);
  CHECK(t->values == std::vector<double>{4.0});
  CHECK(t->intermediate_values.at(1) == std::vector<double>{4.0});
}

TEST_CASE("enqueued trials run first with their parameters, the rest are sampled") {
  Study study = random_study(5);
  study.enqueue_trial({{"x", 0.25}, {"n", int64_t{3}}});
  study.enqueue_trial({{"x", 1.0}});
  study.optimize(quadratic, {.n_trials = 3});
  auto trials = study.trials();
  CHECK(std::get<double>(trials[0]->params.at("x")) == 0.25);
  CHECK(std::get<int64_t>(trials[0]->params.at("n")) == 3);
  CHECK(trials[0]->value() == doctest::Approx(3.0625));
  CHECK(std::get<double>(trials[1]->params.at("x")) == 1.0);
  CHECK(trials[2]->params.size() == 2);

  Study bad = random_study(5);
  bad.enqueue_trial({{"x", 50.0}});
  bad.optimize(quadratic, {.n_trials = 1});
  CHECK(bad.trials()[0]->state == TrialState::failed);
  CHECK(bad.trials()[0]->system_attrs["fail_reason"].get<std::string>().find("'x' = 50") !=
        std::string::npos);
}

TEST_CASE("a seeded study is the same whatever the thread count's timing") {
  auto run = [](int n_jobs) {
    Study study = create_study({.sampler = std::make_shared<RandomSampler>(7)});
    study.optimize(
        [](Trial& t) {
          const double x = t.suggest_float("x", -1, 1);
          // Uneven durations shuffle the finishing order between threads.
          std::this_thread::sleep_for(std::chrono::microseconds(100 * ((t.number() * 7) % 5)));
          return x * x;
        },
        {.n_trials = 40, .n_jobs = n_jobs});
    return params_of(study);
  };
  CHECK(run(4) == run(4));
  CHECK(run(1) == run(1));
}

TEST_CASE("n_jobs trial k sees exactly the trials numbered up to k - n_jobs") {
  Study study = random_study(8);
  std::mutex mutex;
  std::map<int64_t, std::set<int64_t>> seen;
  study.optimize(
      [&](Trial& t) {
        std::set<int64_t> numbers;
        for (const auto& h : t.history()) numbers.insert(h->number);
        std::lock_guard lock(mutex);
        seen[t.number()] = numbers;
        return t.suggest_float("x", 0, 1);
      },
      {.n_trials = 20, .n_jobs = 3});
  for (const auto& [k, numbers] : seen) {
    std::set<int64_t> expected;
    for (int64_t i = 0; i <= k - 3; ++i) expected.insert(i);
    CHECK(numbers == expected);
  }
}

TEST_CASE("threads run trials at the same time") {
  Study study = random_study(9);
  std::atomic<int> running{0}, most{0};
  study.optimize(
      [&](Trial&) {
        const int now = ++running;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        --running;
        return 0.0;
      },
      {.n_trials = 16, .n_jobs = 4});
  CHECK(most.load() == 4);
}

TEST_CASE("a discrete space is explored without repeating a configuration") {
  Study study = random_study(10);
  study.optimize(
      [](Trial& t) {
        const int64_t a = t.suggest_int("a", 0, 3);
        const std::string b = t.suggest_categorical("b", {"x", "y", "z"});
        return static_cast<double>(a) + (b == "x" ? 0.0 : 1.0);
      },
      {.n_trials = 12});
  std::set<std::pair<int64_t, std::string>> configs;
  for (const auto& t : study.trials())
    configs.insert(
        {std::get<int64_t>(t->params.at("a")), std::get<std::string>(t->params.at("b"))});
  CHECK(configs.size() == 12);  // all 4 x 3 points, each once
}

TEST_CASE("a categorical may change its choices between trials") {
  Study study = random_study(11);
  study.optimize(
      [](Trial& t) {
        std::vector<std::string> choices = {"a", "b"};
        if (t.number() >= 5) choices = {"b", "c", "d"};
        return t.suggest_categorical("c", choices) == "b" ? 0.0 : 1.0;
      },
      {.n_trials = 12});
  for (const auto& t : study.trials()) {
    const std::string c = std::get<std::string>(t->params.at("c"));
    CHECK((t->number < 5 ? (c == "a" || c == "b") : (c != "a")));
  }
}

TEST_CASE("best trial for one objective, Pareto front for several") {
  Study single = random_study(12);
  single.optimize(quadratic, {.n_trials = 50});
  double best = 1e300;
  for (const auto& t : single.trials()) best = std::min(best, t->value());
  CHECK(single.best_value() == best);

  Study maximize = create_study(
      {.directions = {Direction::maximize}, .sampler = std::make_shared<RandomSampler>(12)});
  maximize.optimize(quadratic, {.n_trials = 50});
  double top = -1e300;
  for (const auto& t : maximize.trials()) top = std::max(top, t->value());
  CHECK(maximize.best_value() == top);

  Study multi = random_study(13, {Direction::minimize, Direction::minimize});
  multi.optimize(
      [](Trial& t) {
        const double x = t.suggest_float("x", 0, 1);
        return std::vector<double>{x, (1 - x) * (1 - x)};
      },
      {.n_trials = 30});
  CHECK_THROWS_AS(multi.best_trial(), nabla::ValueError);
  // On this curve no point dominates another: all are on the front.
  CHECK(multi.best_trials().size() == 30);
}

TEST_CASE("a multi-objective study fails a trial that returns the wrong number of values") {
  Study multi = random_study(14, {Direction::minimize, Direction::maximize});
  multi.optimize([](Trial&) { return std::vector<double>{1.0}; }, {.n_trials = 1});
  CHECK(multi.trials()[0]->state == TrialState::failed);
}

TEST_CASE("ask and tell drive a study from outside") {
  Study study = random_study(15);
  for (int i = 0; i < 5; ++i) {
    Trial t = study.ask();
    const double x = t.suggest_float("x", 0, 1);
    t.report(0, x);
    study.tell(t, {x});
  }
  Trial pruned = study.ask();
  pruned.report(3, 0.5);
  study.tell(pruned, TrialState::pruned);
  CHECK(study.trials().size() == 6);
  CHECK(study.trials()[5]->values == std::vector<double>{0.5});
  CHECK_THROWS_AS(study.tell(pruned, {1.0}), nabla::ValueError);
}

TEST_CASE("create_study refuses a taken name unless asked to load it") {
  auto storage = std::make_shared<InMemoryStorage>();
  Study first = create_study({.name = "s", .storage = storage});
  first.optimize(quadratic, {.n_trials = 2});
  CHECK_THROWS_AS(create_study({.name = "s", .storage = storage}), nabla::ValueError);
  Study again = create_study({.name = "s", .storage = storage, .load_if_exists = true});
  CHECK(again.trials().size() == 2);
  CHECK_THROWS_AS(create_study({.name = "s",
                                .storage = storage,
                                .directions = {Direction::maximize},
                                .load_if_exists = true}),
                  nabla::ValueError);
  CHECK_THROWS_AS(load_study({.name = "missing", .storage = storage}), nabla::ValueError);
}

TEST_CASE("the heartbeat's grace period must exceed its interval") {
  CHECK_THROWS_AS(create_study({.heartbeat_interval = 1, .grace_period = 0.5}), nabla::ValueError);
}

TEST_CASE("export writes every trial as CSV and JSON") {
  Study study = random_study(16);
  study.optimize(
      [](Trial& t) {
        t.set_user_attr("note", "a, \"quoted\" note");
        return t.suggest_float("x", 0, 1);
      },
      {.n_trials = 3});
  std::ostringstream csv;
  auto trials = study.trials();
  write_trials_csv(study.storage().study(study.id()), trials, csv);
  std::istringstream lines(csv.str());
  std::string header, row;
  std::getline(lines, header);
  CHECK(header ==
        "number,state,value,datetime_start,datetime_complete,duration_s,params_x,"
        "user_attrs_note");
  std::getline(lines, row);
  CHECK(row.starts_with("0,complete,"));
  CHECK(row.ends_with(",\"a, \"\"quoted\"\" note\""));
  auto j = trials_to_json(study.storage().study(study.id()), trials);
  CHECK(j["trials"].size() == 3);
  CHECK(frozen_trial_from_json(j["trials"][1]).params == trials[1]->params);
}

TEST_CASE("the incremental search space equals the one computed from scratch") {
  Study study = random_study(17);
  study.optimize(
      [](Trial& t) {
        const double x = t.suggest_float("x", 0, 1);
        if (t.number() % 3 == 0) t.suggest_int("n", 1, 4);
        if (t.number() == 7) t.suggest_float("x2", 0, 2);
        t.suggest_int("fixed", 3, 3);
        if (t.number() == 5) throw TrialPruned();
        return x;
      },
      {.n_trials = 12});
  auto all = study.trials();
  IncrementalSearchSpace incremental;
  auto check = [&](std::span<const TrialPtr> history) {
    auto result = incremental.update(history);
    const SearchSpace expected = intersection_search_space(history);
    CHECK(result.space == expected);
    CHECK(result.conditional == has_parameters_outside(history, expected));
  };
  for (size_t n = 0; n <= all.size(); ++n) check(std::span<const TrialPtr>(all).first(n));
  // A history that does not extend the last one is folded in from scratch.
  std::vector<TrialPtr> shuffled = {all[4], all[1], all[9]};
  check(shuffled);
  check(std::span<const TrialPtr>(all).first(3));
  CHECK(incremental.update(all).space.contains("x"));
  CHECK(incremental.update(all).conditional);
}
