// Grid search: every point once in a seeded order, with threads and with two studies sharing a
// storage, the study stopping by itself, and the errors a grid can meet.
#include <doctest/doctest.h>

#include <set>
#include <thread>

#include "core/error.h"
#include "hpo/hpo.h"

using namespace nabla::hpo;

namespace {

using Grid = std::map<std::string, std::vector<ParamValue>>;

// 3 x 2 x 2 = 12 points.
const Grid& grid() {
  static const Grid g = {{"lr", {0.1, 0.01, 0.001}},
                         {"opt", {std::string("sgd"), std::string("adam")}},
                         {"depth", {int64_t{2}, int64_t{4}}}};
  return g;
}

double objective(Trial& t) {
  const double lr = t.suggest_float("lr", 1e-4, 1, {.log = true});
  const std::string opt = t.suggest_categorical("opt", {"sgd", "adam"});
  const int64_t depth = t.suggest_int("depth", 1, 8);
  return lr * static_cast<double>(depth) + (opt == "adam" ? 0.0 : 1.0);
}

std::vector<std::map<std::string, ParamValue>> params_by_number(const Study& study) {
  std::vector<std::map<std::string, ParamValue>> out;
  for (const auto& t : study.trials()) out.push_back(t->params);
  return out;
}

std::set<std::map<std::string, ParamValue>> distinct(const Study& study) {
  std::set<std::map<std::string, ParamValue>> out;
  for (const auto& t : study.trials()) out.insert(t->params);
  return out;
}

}  // namespace

TEST_CASE("a grid study visits every point once and stops by itself, with threads too") {
  GridSampler probe(grid(), 1);
  REQUIRE(probe.size() == 12);
  std::set<std::map<std::string, ParamValue>> all;
  for (int64_t i = 0; i < probe.size(); ++i) all.insert(probe.point(i));
  CHECK(all.size() == 12);
  CHECK(probe.point(0) == std::map<std::string, ParamValue>{
                              {"depth", int64_t{2}}, {"lr", 0.1}, {"opt", std::string("sgd")}});
  CHECK_THROWS_AS(probe.point(12), nabla::ValueError);

  Study sequential = create_study({.sampler = std::make_shared<GridSampler>(grid(), 1)});
  sequential.optimize(objective, {.n_trials = 50});
  CHECK(sequential.trials().size() == 12);
  CHECK(distinct(sequential) == all);
  for (const auto& t : sequential.trials()) CHECK(t->state == TrialState::complete);

  for (int run = 0; run < 3; ++run) {
    Study threaded = create_study({.sampler = std::make_shared<GridSampler>(grid(), 1)});
    threaded.optimize(objective, {.n_trials = 50, .n_jobs = 4});
    CHECK(threaded.trials().size() == 12);
    CHECK(distinct(threaded) == all);
    // Trial k takes the k-th point of the seeded order whatever the threads' timing.
    CHECK(params_by_number(threaded) == params_by_number(sequential));
  }
}

TEST_CASE("the grid's order is fixed by its seed") {
  auto order = [](uint64_t seed) {
    Study study = create_study({.sampler = std::make_shared<GridSampler>(grid(), seed)});
    study.optimize(objective);
    return params_by_number(study);
  };
  const auto first = order(5);
  CHECK(first.size() == 12);
  CHECK(first == order(5));
  CHECK(first != order(6));
}

TEST_CASE("two studies sharing a storage split the grid between them") {
  // Two workers with their own samplers (as two processes would have) on one stored study.
  auto storage = std::make_shared<InMemoryStorage>();
  Study a = create_study(
      {.name = "shared", .storage = storage, .sampler = std::make_shared<GridSampler>(grid(), 2)});
  Study b = load_study(
      {.name = "shared", .storage = storage, .sampler = std::make_shared<GridSampler>(grid(), 2)});
  std::thread other([&] { b.optimize(objective, {.n_trials = 50, .n_jobs = 2}); });
  a.optimize(objective, {.n_trials = 50, .n_jobs = 2});
  other.join();
  const auto trials = a.trials();
  CHECK(trials.size() == 12);
  std::set<int64_t> ids;
  for (const auto& t : trials) ids.insert(t->system_attrs.at("grid_id").get<int64_t>());
  CHECK(ids.size() == 12);
  CHECK(distinct(a).size() == 12);
}

TEST_CASE("a parameter outside the grid, or a grid value outside the distribution, is an error") {
  Study missing = create_study({.sampler = std::make_shared<GridSampler>(grid(), 1)});
  auto with_extra = [](Trial& t) { return objective(t) + t.suggest_float("momentum", 0, 1); };
  missing.optimize(with_extra, {.n_trials = 1});
  const std::string reason = missing.trials()[0]->system_attrs["fail_reason"];
  CHECK(missing.trials()[0]->state == TrialState::failed);
  CHECK(reason.find("'momentum', which is not in the grid (depth, lr, opt)") != std::string::npos);
  Study strict = create_study({.sampler = std::make_shared<GridSampler>(grid(), 1)});
  CHECK_THROWS_AS(strict.optimize(with_extra, {.n_trials = 1, .catch_errors = false}),
                  nabla::ValueError);

  Study outside = create_study({.sampler = std::make_shared<GridSampler>(grid(), 1)});
  CHECK_THROWS_WITH_AS(outside.optimize(
                           [](Trial& t) {
                             // The grid's lr = 0.1 lies outside [1e-4, 0.05].
                             return t.suggest_float("lr", 1e-4, 0.05, {.log = true});
                           },
                           {.n_trials = 12, .catch_errors = false}),
                       doctest::Contains("outside the objective's distribution"),
                       nabla::ValueError);

  CHECK_THROWS_AS(GridSampler(Grid{}), nabla::ValueError);
  CHECK_THROWS_AS(GridSampler(Grid{{"x", {}}}), nabla::ValueError);
  CHECK_THROWS_AS(GridSampler(Grid{{"x", {1.0, 2.0, 1.0}}}), nabla::ValueError);
}
