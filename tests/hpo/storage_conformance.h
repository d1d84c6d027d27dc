// The checks every Storage passes, written once: a storage's test file instantiates them with
// NABLA_STORAGE_CONFORMANCE("label", factory), the factory returning a fresh, empty storage.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "core/error.h"
#include "hpo/hpo.h"

namespace nabla::hpo::conformance {

using StorageFactory = std::function<std::shared_ptr<Storage>()>;

inline std::string json_of(const TrialPtr& t) { return to_json(*t).dump(); }

inline std::vector<std::string> json_of(const std::vector<TrialPtr>& trials) {
  std::vector<std::string> out;
  for (const auto& t : trials) out.push_back(json_of(t));
  return out;
}

inline void studies(const StorageFactory& make) {
  auto s = make();
  CHECK(s->studies().empty());
  CHECK(!s->find_study("a"));
  const int64_t a = s->create_study("a", {Direction::minimize});
  const int64_t b = s->create_study("étude \"b\"", {Direction::maximize, Direction::minimize});
  CHECK(a != b);
  CHECK(s->find_study("a") == a);
  CHECK(s->find_study("étude \"b\"") == b);
  CHECK(!s->find_study("c"));
  CHECK_THROWS_AS(s->create_study("a", {Direction::maximize}), ValueError);
  CHECK(s->studies().size() == 2);

  const StudyInfo info = s->study(b);
  CHECK(info.id == b);
  CHECK(info.name == "étude \"b\"");
  CHECK(info.directions == std::vector<Direction>{Direction::maximize, Direction::minimize});
  const auto all = s->studies();
  REQUIRE(all.size() == 2);
  CHECK(all[0].name == "a");
  CHECK(all[0].directions == std::vector<Direction>{Direction::minimize});
  CHECK(all[1].id == b);

  s->set_study_user_attr(a, "note", "first");
  s->set_study_user_attr(a, "note", nlohmann::json::array({1, 2.5, "x"}));  // replaces
  s->set_study_user_attr(a, "nested", {{"k", {{"deep", true}}}});
  s->set_study_system_attr(a, "generation", 3);
  const StudyInfo with_attrs = s->study(a);
  CHECK(with_attrs.user_attrs ==
        nlohmann::json({{"note", {1, 2.5, "x"}}, {"nested", {{"k", {{"deep", true}}}}}}));
  CHECK(with_attrs.system_attrs == nlohmann::json({{"generation", 3}}));
  CHECK(s->study(b).user_attrs.empty());
  CHECK(s->studies()[0].user_attrs == with_attrs.user_attrs);

  const int64_t missing = std::max(a, b) + 1000;
  CHECK_THROWS_AS(s->study(missing), ValueError);
  CHECK_THROWS_AS(s->set_study_user_attr(missing, "k", 1), ValueError);
  CHECK_THROWS_AS(s->set_study_system_attr(missing, "k", 1), ValueError);
  CHECK_THROWS_AS(s->trials(missing), ValueError);
  CHECK_THROWS_AS(s->create_trial(missing, {}), ValueError);
  CHECK_THROWS_AS(s->claim_waiting_trial(missing), ValueError);
  CHECK_THROWS_AS(s->fail_stale_trials(missing, 1.0), ValueError);
}

inline void create_trials(const StorageFactory& make) {
  auto s = make();
  const int64_t a = s->create_study("a", {Direction::minimize});
  const int64_t b = s->create_study("b", {Direction::minimize});
  std::set<int64_t> ids;
  std::vector<TrialPtr> created;
  for (int i = 0; i < 3; ++i) {
    created.push_back(s->create_trial(a, {}));
    created.push_back(s->create_trial(b, {.state = TrialState::waiting,
                                          .user_attrs = {{"i", i}},
                                          .system_attrs = {{"fixed_params", {{"x", i}}}}}));
  }
  for (size_t k = 0; k < created.size(); ++k) {
    const TrialPtr& t = created[k];
    ids.insert(t->id);
    CHECK(t->number == static_cast<int64_t>(k / 2));
    CHECK(t->values.empty());
    CHECK(t->params.empty());
    CHECK(!t->completed);
    if (k % 2 == 0) {
      CHECK(t->state == TrialState::running);
      CHECK(t->started);
      CHECK(t->user_attrs.empty());
    } else {
      CHECK(t->state == TrialState::waiting);
      CHECK(!t->started);
      CHECK(t->user_attrs == nlohmann::json({{"i", static_cast<int>(k / 2)}}));
      CHECK(t->system_attrs.at("fixed_params").at("x") == static_cast<int>(k / 2));
    }
    CHECK(json_of(s->trial(t->id)) == json_of(t));
  }
  CHECK(ids.size() == 6);
  CHECK(s->trials(a).size() == 3);
  CHECK(s->trials(b)[2]->id == created[5]->id);
  CHECK_THROWS_AS(s->create_trial(a, {.state = TrialState::complete}), ValueError);
  CHECK_THROWS_AS(s->create_trial(a, {.state = TrialState::failed}), ValueError);
  CHECK(s->trials(a).size() == 3);  // a refused trial takes no number
  CHECK(s->create_trial(a, {})->number == 3);
}

inline void trial_setters(const StorageFactory& make) {
  auto s = make();
  const int64_t study = s->create_study("s", {Direction::minimize, Direction::maximize});
  const int64_t id = s->create_trial(study, {})->id;
  const double tiny = std::numeric_limits<double>::denorm_min();
  const int64_t big = std::numeric_limits<int64_t>::max();
  const Distribution lr = FloatDistribution{1e-5, 1e-1, true, std::nullopt};
  const Distribution drop = FloatDistribution{0, 0.5, false, 0.1};
  const Distribution width = IntDistribution{1, big, false, 1};
  const Distribution opt =
      CategoricalDistribution{{std::string("sgd"), std::string("adam"), int64_t{3}, true, 0.25}};
  s->set_trial_param(id, "lr", 1.0 / 3.0 * 1e-2, lr);
  s->set_trial_param(id, "dropout", 0.30000000000000004, drop);
  s->set_trial_param(id, "width", big, width);
  s->set_trial_param(id, "optimizer", true, opt);
  s->set_trial_param(id, "opt2", std::string("adam"), opt);
  s->set_trial_param(id, "opt2", int64_t{3}, opt);  // set again: replaced
  s->set_trial_intermediate_value(id, 0, {0.1, -tiny});
  s->set_trial_intermediate_value(id, 7, {std::nan(""), std::numeric_limits<double>::infinity()});
  s->set_trial_intermediate_value(id, 3, {1e300, -0.0});
  s->set_trial_user_attr(id, "note", "ünïcode, \"quoted\"");
  s->set_trial_user_attr(id, "list", {1, 2, 3});
  s->set_trial_system_attr(id, "generation", 4);

  for (const TrialPtr& t : {s->trial(id), s->trials(study)[0]}) {
    CHECK(t->state == TrialState::running);
    CHECK(t->params.size() == 5);
    CHECK(std::get<double>(t->params.at("lr")) == 1.0 / 3.0 * 1e-2);
    CHECK(std::get<double>(t->params.at("dropout")) == 0.30000000000000004);
    CHECK(std::get<int64_t>(t->params.at("width")) == big);
    CHECK(std::get<bool>(t->params.at("optimizer")));
    CHECK(std::get<int64_t>(t->params.at("opt2")) == 3);
    CHECK(t->distributions.at("lr") == lr);
    CHECK(t->distributions.at("dropout") == drop);
    CHECK(t->distributions.at("width") == width);
    CHECK(t->distributions.at("opt2") == opt);
    REQUIRE(t->intermediate_values.size() == 3);
    CHECK(t->intermediate_values.at(0) == std::vector<double>{0.1, -tiny});
    CHECK(std::isnan(t->intermediate_values.at(7)[0]));
    CHECK(t->intermediate_values.at(7)[1] == std::numeric_limits<double>::infinity());
    CHECK(t->intermediate_values.at(3)[0] == 1e300);
    CHECK(std::signbit(t->intermediate_values.at(3)[1]));
    CHECK(t->last_step() == 7);
    CHECK(t->user_attrs == nlohmann::json({{"note", "ünïcode, \"quoted\""}, {"list", {1, 2, 3}}}));
    CHECK(t->system_attrs == nlohmann::json({{"generation", 4}}));
  }

  const int64_t missing = id + 1000;
  CHECK_THROWS_AS(s->trial(missing), ValueError);
  CHECK_THROWS_AS(s->set_trial_param(missing, "x", 1.0, lr), ValueError);
  CHECK_THROWS_AS(s->set_trial_intermediate_value(missing, 0, {1.0}), ValueError);
  CHECK_THROWS_AS(s->set_trial_user_attr(missing, "k", 1), ValueError);
  CHECK_THROWS_AS(s->set_trial_system_attr(missing, "k", 1), ValueError);
  CHECK_THROWS_AS(s->set_trial_state_values(missing, TrialState::complete, {1.0}), ValueError);
  CHECK_THROWS_AS(s->record_heartbeat(missing), ValueError);
}

inline void finished_trials(const StorageFactory& make) {
  auto s = make();
  const int64_t study = s->create_study("s", {Direction::minimize});
  const Distribution d = FloatDistribution{0, 1, false, std::nullopt};
  for (TrialState state : {TrialState::complete, TrialState::pruned, TrialState::failed}) {
    CAPTURE(name(state));
    const int64_t id = s->create_trial(study, {})->id;
    const auto started = s->trial(id)->started;
    s->set_trial_intermediate_value(id, 2, {0.75});
    CHECK(s->set_trial_state_values(id, state, {0.5}));
    const TrialPtr done = s->trial(id);
    CHECK(done->state == state);
    CHECK(done->values ==
          (state == TrialState::failed ? std::vector<double>{} : std::vector<double>{0.5}));
    CHECK(done->started == started);
    REQUIRE(done->completed);
    CHECK(*done->completed >= *done->started);

    CHECK_THROWS_AS(s->set_trial_param(id, "x", 0.5, d), ValueError);
    CHECK_THROWS_AS(s->set_trial_intermediate_value(id, 3, {1.0}), ValueError);
    CHECK_THROWS_AS(s->set_trial_user_attr(id, "k", 1), ValueError);
    CHECK_THROWS_AS(s->set_trial_system_attr(id, "k", 1), ValueError);
    for (TrialState again : {TrialState::complete, TrialState::failed, TrialState::running})
      CHECK(!s->set_trial_state_values(id, again, {9.0}));
    CHECK(json_of(s->trial(id)) == json_of(done));
  }

  // A waiting trial set running starts its clock.
  const int64_t waiting = s->create_trial(study, {.state = TrialState::waiting})->id;
  CHECK(s->set_trial_state_values(waiting, TrialState::running, {}));
  CHECK(s->trial(waiting)->state == TrialState::running);
  CHECK(s->trial(waiting)->started);
  CHECK(!s->trial(waiting)->completed);
}

// Trials handed out are frozen: a change replaces the stored trial and leaves them as they were.
inline void frozen_trials(const StorageFactory& make) {
  auto s = make();
  const int64_t study = s->create_study("s", {Direction::minimize});
  const Distribution d = FloatDistribution{0, 1, false, std::nullopt};
  const TrialPtr created = s->create_trial(study, {});
  const int64_t id = created->id;
  s->set_trial_param(id, "x", 0.25, d);
  const TrialPtr before = s->trial(id);
  const std::vector<TrialPtr> list_before = s->trials(study);
  const std::string frozen = json_of(before);
  s->set_trial_param(id, "y", 0.5, d);
  s->set_trial_user_attr(id, "k", "v");
  s->set_trial_intermediate_value(id, 0, {1.0});
  CHECK(s->set_trial_state_values(id, TrialState::complete, {2.0}));
  CHECK(created->params.empty());
  CHECK(created->state == TrialState::running);
  CHECK(json_of(before) == frozen);
  CHECK(json_of(list_before[0]) == frozen);
  const TrialPtr after = s->trial(id);
  CHECK(after->params.size() == 2);
  CHECK(after->values == std::vector<double>{2.0});
  CHECK(after->state == TrialState::complete);
  CHECK(json_of(s->trials(study)[0]) == json_of(after));
}

inline void claim_waiting(const StorageFactory& make) {
  auto s = make();
  const int64_t study = s->create_study("s", {Direction::minimize});
  const int64_t other = s->create_study("other", {Direction::minimize});
  CHECK(s->claim_waiting_trial(study) == nullptr);
  s->create_trial(other, {.state = TrialState::waiting});
  const nlohmann::json fixed = {{"fixed_params", {{"x", 0.5}}}};
  s->create_trial(study, {.state = TrialState::waiting, .system_attrs = fixed});
  s->create_trial(study, {});
  s->create_trial(study, {.state = TrialState::waiting});
  const TrialPtr first = s->claim_waiting_trial(study);
  REQUIRE(first);
  CHECK(first->number == 0);
  CHECK(first->state == TrialState::running);
  CHECK(first->started);
  CHECK(first->system_attrs == fixed);
  CHECK(s->trial(first->id)->state == TrialState::running);
  const TrialPtr second = s->claim_waiting_trial(study);
  REQUIRE(second);
  CHECK(second->number == 2);
  CHECK(s->claim_waiting_trial(study) == nullptr);
  CHECK(s->trials(other)[0]->state == TrialState::waiting);
  CHECK(s->claim_waiting_trial(other)->number == 0);
}

// Threads creating trials at once get consecutive numbers, each once.
inline void concurrent_creates(const StorageFactory& make) {
  auto s = make();
  const int64_t study = s->create_study("s", {Direction::minimize});
  const int64_t other = s->create_study("other", {Direction::minimize});
  constexpr int kThreads = 8, kEach = 25;
  std::mutex mutex;
  std::vector<int64_t> numbers, ids;
  {
    std::vector<std::jthread> threads;
    for (int j = 0; j < kThreads; ++j)
      threads.emplace_back([&, j] {
        for (int i = 0; i < kEach; ++i) {
          const TrialPtr t = s->create_trial(j % 2 ? other : study, {});
          std::lock_guard lock(mutex);
          if (j % 2 == 0) numbers.push_back(t->number);
          ids.push_back(t->id);
        }
      });
  }
  std::sort(numbers.begin(), numbers.end());
  std::vector<int64_t> expected(kThreads / 2 * kEach);
  for (size_t i = 0; i < expected.size(); ++i) expected[i] = static_cast<int64_t>(i);
  CHECK(numbers == expected);
  CHECK(std::set<int64_t>(ids.begin(), ids.end()).size() == kThreads * kEach);
  const auto trials = s->trials(study);
  REQUIRE(trials.size() == expected.size());
  for (size_t i = 0; i < trials.size(); ++i) CHECK(trials[i]->number == static_cast<int64_t>(i));
  CHECK(s->trials(other).size() == expected.size());
}

// create_trial_unless shows `stop` the trials as they stand and creates nothing when it says
// stop; threads racing to fill a study to a cap create exactly the cap.
inline void create_unless(const StorageFactory& make) {
  auto s = make();
  const int64_t study = s->create_study("s", {Direction::minimize});
  s->create_trial(study, {});
  size_t seen = 0;
  auto stop_at = [&](size_t cap) {
    return [&seen, cap](const std::vector<TrialPtr>& trials) {
      seen = trials.size();
      for (size_t k = 0; k < trials.size(); ++k)
        CHECK(trials[k]->number == static_cast<int64_t>(k));
      return trials.size() >= cap;
    };
  };
  const TrialPtr second = s->create_trial_unless(study, {.state = TrialState::waiting}, stop_at(2));
  REQUIRE(second);
  CHECK(seen == 1);
  CHECK(second->number == 1);
  CHECK(second->state == TrialState::waiting);
  CHECK(s->create_trial_unless(study, {}, stop_at(2)) == nullptr);
  CHECK(seen == 2);
  CHECK(s->trials(study).size() == 2);
  CHECK(s->create_trial(study, {})->number == 2);
  CHECK_THROWS_AS(s->create_trial_unless(study + 100, {}, stop_at(10)), ValueError);

  constexpr size_t kCap = 40;
  std::atomic<int> created = 0;
  {
    std::vector<std::jthread> threads;
    for (int j = 0; j < 8; ++j)
      threads.emplace_back([&] {
        auto full = [](const std::vector<TrialPtr>& trials) { return trials.size() >= kCap; };
        while (s->create_trial_unless(study, {}, full)) ++created;
      });
  }
  CHECK(created == static_cast<int>(kCap) - 3);
  CHECK(s->trials(study).size() == kCap);
}

// Threads claiming at once never get the same trial, and together get every one.
inline void concurrent_claims(const StorageFactory& make) {
  auto s = make();
  const int64_t study = s->create_study("s", {Direction::minimize});
  constexpr int kWaiting = 100;
  for (int i = 0; i < kWaiting; ++i) s->create_trial(study, {.state = TrialState::waiting});
  std::mutex mutex;
  std::vector<int64_t> claimed;
  {
    std::vector<std::jthread> threads;
    for (int j = 0; j < 8; ++j)
      threads.emplace_back([&] {
        while (TrialPtr t = s->claim_waiting_trial(study)) {
          CHECK(t->state == TrialState::running);
          std::lock_guard lock(mutex);
          claimed.push_back(t->number);
        }
      });
  }
  CHECK(claimed.size() == kWaiting);
  CHECK(std::set<int64_t>(claimed.begin(), claimed.end()).size() == kWaiting);
  for (const auto& t : s->trials(study)) CHECK(t->state == TrialState::running);
}

// Note [heartbeat] in storage.h: only running trials whose last beat is older than the grace
// period fail, each by one call only.
inline void heartbeat(const StorageFactory& make) {
  auto s = make();
  const int64_t study = s->create_study("s", {Direction::minimize});
  const int64_t other = s->create_study("other", {Direction::minimize});
  constexpr double kGrace = 0.25;
  const int64_t beating = s->create_trial(study, {})->id;
  const int64_t silent = s->create_trial(study, {})->id;
  const int64_t waiting = s->create_trial(study, {.state = TrialState::waiting})->id;
  const int64_t done = s->create_trial(study, {})->id;
  CHECK(s->set_trial_state_values(done, TrialState::complete, {1.0}));
  const int64_t elsewhere = s->create_trial(other, {})->id;
  std::vector<int64_t> crowd;
  for (int i = 0; i < 20; ++i) crowd.push_back(s->create_trial(other, {})->id);
  CHECK(s->fail_stale_trials(study, kGrace).empty());

  std::this_thread::sleep_for(std::chrono::duration<double>(kGrace + 0.1));
  s->record_heartbeat(beating);
  s->record_heartbeat(done);  // a finished trial's beat changes nothing
  const auto failed = s->fail_stale_trials(study, kGrace);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0]->id == silent);
  CHECK(failed[0]->state == TrialState::failed);
  CHECK(failed[0]->completed);
  CHECK(failed[0]
            ->system_attrs.at("fail_reason")
            .get<std::string>()
            .starts_with("no heartbeat for more than 0.25"));
  CHECK(json_of(s->trial(silent)) == json_of(failed[0]));
  CHECK(s->fail_stale_trials(study, kGrace).empty());
  CHECK(!s->set_trial_state_values(silent, TrialState::complete, {0.0}));
  CHECK(s->trial(beating)->state == TrialState::running);
  CHECK(s->trial(waiting)->state == TrialState::waiting);
  CHECK(s->trial(done)->state == TrialState::complete);
  CHECK(s->trial(elsewhere)->state == TrialState::running);  // another study's

  // Workers looking at once fail each stale trial once.
  std::mutex mutex;
  std::vector<int64_t> by_threads;
  {
    std::vector<std::jthread> threads;
    for (int j = 0; j < 4; ++j)
      threads.emplace_back([&] {
        for (const auto& t : s->fail_stale_trials(other, kGrace)) {
          std::lock_guard lock(mutex);
          by_threads.push_back(t->id);
        }
      });
  }
  std::sort(by_threads.begin(), by_threads.end());
  crowd.insert(crowd.begin(), elsewhere);
  CHECK(by_threads == crowd);
  for (const auto& t : s->trials(other)) CHECK(t->state == TrialState::failed);
}

// After any mix of changes, trials() is every trial in number order, each as trial() reads it.
inline void trials_stay_current(const StorageFactory& make) {
  auto s = make();
  const int64_t study = s->create_study("s", {Direction::minimize});
  const Distribution d = IntDistribution{0, 100, false, 1};
  std::mt19937 rng(5);
  std::vector<int64_t> ids;
  for (int round = 0; round < 6; ++round) {
    for (int i = 0; i < 5; ++i)
      ids.push_back(
          s->create_trial(study, {.state = i % 3 ? TrialState::running : TrialState::waiting})->id);
    for (int change = 0; change < 12; ++change) {
      const int64_t id = ids[rng() % ids.size()];
      if (is_finished(s->trial(id)->state)) continue;
      switch (rng() % 4) {
        case 0:
          s->set_trial_param(id, std::string("p").append(std::to_string(change)),
                             int64_t(rng() % 100), d);
          break;
        case 1:
          s->set_trial_intermediate_value(id, change, {static_cast<double>(change)});
          break;
        case 2:
          s->set_trial_user_attr(id, "round", round);
          break;
        default:
          s->set_trial_state_values(id, TrialState::complete, {static_cast<double>(round)});
      }
    }
    s->claim_waiting_trial(study);
    const auto trials = s->trials(study);
    REQUIRE(trials.size() == ids.size());
    for (size_t k = 0; k < ids.size(); ++k) {
      CHECK(trials[k]->number == static_cast<int64_t>(k));
      CHECK(json_of(trials[k]) == json_of(s->trial(ids[k])));
    }
    CHECK(json_of(s->trials(study)) == json_of(trials));  // unchanged: the same again
  }
}

inline double quadratic(Trial& t) {
  const double x = t.suggest_float("x", -5, 5);
  const int64_t n = t.suggest_int("n", 1, 8);
  t.report(0, x * x);
  t.set_user_attr("n_squared", n * n);
  return x * x + static_cast<double>(n);
}

// A whole study over the storage: threads, a loaded view of it, enqueued trials, and the
// heartbeat keeping trials longer than the grace period alive, and retrying an abandoned one.
inline void study_run(const StorageFactory& make) {
  auto s = make();
  Study study =
      create_study({.name = "run", .storage = s, .sampler = std::make_shared<RandomSampler>(3)});
  study.optimize(quadratic, {.n_trials = 40, .n_jobs = 4});
  const auto trials = study.trials();
  REQUIRE(trials.size() == 40);
  double best = 1e300;
  for (size_t k = 0; k < trials.size(); ++k) {
    CHECK(trials[k]->number == static_cast<int64_t>(k));
    CHECK(trials[k]->state == TrialState::complete);
    CHECK(trials[k]->params.size() == 2);
    CHECK(trials[k]->intermediate_values.size() == 1);
    const int64_t n = std::get<int64_t>(trials[k]->params.at("n"));
    CHECK(trials[k]->user_attrs.at("n_squared") == n * n);
    best = std::min(best, trials[k]->value());
  }
  Study loaded = load_study({.name = "run", .storage = s});
  CHECK(json_of(loaded.trials()) == json_of(trials));
  CHECK(loaded.best_value() == best);

  loaded.enqueue_trial({{"x", 0.5}, {"n", int64_t{2}}});
  loaded.optimize(quadratic, {.n_trials = 1});
  CHECK(study.trials()[40]->value() == 2.25);

  // Trials longer than the grace period, kept alive by the heartbeat.
  Study beating = create_study({.name = "beating",
                                .storage = s,
                                .sampler = std::make_shared<RandomSampler>(4),
                                .heartbeat_interval = 0.05,
                                .grace_period = 0.25,
                                .max_retries = 1});
  const int64_t abandoned = s->create_trial(beating.id(), {})->id;
  s->set_trial_param(abandoned, "x", 1.5, FloatDistribution{-5, 5, false, std::nullopt});
  s->set_trial_param(abandoned, "n", int64_t{3}, IntDistribution{1, 8, false, 1});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  beating.optimize(
      [](Trial& t) {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        return quadratic(t);
      },
      {.n_trials = 4, .n_jobs = 2});
  const auto beaten = beating.trials();
  REQUIRE(beaten.size() == 5);
  CHECK(beaten[0]->state == TrialState::failed);
  CHECK(beaten[1]->system_attrs.at("retried_from") == 0);
  CHECK(beaten[1]->params == beaten[0]->params);
  CHECK(beaten[1]->value() == 1.5 * 1.5 + 3);
  for (size_t k = 1; k < beaten.size(); ++k) CHECK(beaten[k]->state == TrialState::complete);
}

}  // namespace nabla::hpo::conformance

// Every check as its own test case, "<label> storage: <check>"; `factory` is an expression giving
// a StorageFactory. A storage that needs a server names, in `available`, an expression saying as
// each test starts whether there is one (and, where there is none, why).
#define NABLA_STORAGE_CONFORMANCE(label, factory) NABLA_STORAGE_CONFORMANCE_IF(label, true, factory)
#define NABLA_STORAGE_CONFORMANCE_IF(label, available, factory)             \
  TEST_CASE(label " storage: studies") {                                    \
    if (available) ::nabla::hpo::conformance::studies(factory);             \
  }                                                                         \
  TEST_CASE(label " storage: create_trial") {                               \
    if (available) ::nabla::hpo::conformance::create_trials(factory);       \
  }                                                                         \
  TEST_CASE(label " storage: setters") {                                    \
    if (available) ::nabla::hpo::conformance::trial_setters(factory);       \
  }                                                                         \
  TEST_CASE(label " storage: finished trials") {                            \
    if (available) ::nabla::hpo::conformance::finished_trials(factory);     \
  }                                                                         \
  TEST_CASE(label " storage: frozen trials") {                              \
    if (available) ::nabla::hpo::conformance::frozen_trials(factory);       \
  }                                                                         \
  TEST_CASE(label " storage: claim_waiting_trial") {                        \
    if (available) ::nabla::hpo::conformance::claim_waiting(factory);       \
  }                                                                         \
  TEST_CASE(label " storage: concurrent create_trial") {                    \
    if (available) ::nabla::hpo::conformance::concurrent_creates(factory);  \
  }                                                                         \
  TEST_CASE(label " storage: create_trial_unless") {                        \
    if (available) ::nabla::hpo::conformance::create_unless(factory);       \
  }                                                                         \
  TEST_CASE(label " storage: concurrent claim_waiting_trial") {             \
    if (available) ::nabla::hpo::conformance::concurrent_claims(factory);   \
  }                                                                         \
  TEST_CASE(label " storage: heartbeat") {                                  \
    if (available) ::nabla::hpo::conformance::heartbeat(factory);           \
  }                                                                         \
  TEST_CASE(label " storage: trials stay current") {                        \
    if (available) ::nabla::hpo::conformance::trials_stay_current(factory); \
  }                                                                         \
  TEST_CASE(label " storage: a study run") {                                \
    if (available) ::nabla::hpo::conformance::study_run(factory);           \
  }
