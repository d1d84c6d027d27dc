// Distributions: checks, internal values, snapping, cardinality and JSON round trips.
#include <doctest/doctest.h>

#include "core/error.h"
#include "hpo/distribution.h"
#include "hpo/rng.h"
#include "hpo/sampler.h"

using namespace nabla::hpo;

TEST_CASE("distribution checks name the parameter and the problem") {
  CHECK_THROWS_WITH_AS(make_float("lr", 0.0, 1.0, true, std::nullopt),
                       "suggest_float: 'lr' is log-scaled, so low must be > 0, got 0",
                       nabla::ValueError);
  CHECK_THROWS_AS(make_float("x", 2.0, 1.0, false, std::nullopt), nabla::ValueError);
  CHECK_THROWS_AS(make_float("x", 1.0, 2.0, true, 0.1), nabla::ValueError);
  CHECK_THROWS_AS(make_int("n", 0, 10, true, 1), nabla::ValueError);
  CHECK_THROWS_AS(make_int("n", 1, 10, true, 2), nabla::ValueError);
  CHECK_THROWS_AS(make_categorical("c", {}), nabla::ValueError);
  CHECK_THROWS_AS(make_categorical("c", {std::string("a"), std::string("a")}), nabla::ValueError);
}

TEST_CASE("a step that does not divide the range moves high to the last grid point") {
  CHECK(make_float("x", 0.0, 1.0, false, 0.3).high == doctest::Approx(0.9));
  CHECK(make_int("n", 0, 10, false, 3).high == 9);
  CHECK(cardinality(make_float("x", 0.0, 1.0, false, 0.1)) == 11);
  CHECK(cardinality(make_int("n", 2, 10, false, 2)) == 5);
  CHECK(!cardinality(make_float("x", 0.0, 1.0, false, std::nullopt)));
}

TEST_CASE("internal values: in range, on the grid, among the choices") {
  Distribution f = make_float("x", 0.0, 1.0, false, 0.25);
  CHECK(to_internal(f, 0.5) == 0.5);
  CHECK(!to_internal(f, 0.3));
  CHECK(!to_internal(f, 2.0));
  CHECK(to_internal(f, int64_t{1}) == 1.0);
  CHECK(std::get<double>(to_external(f, 0.3)) == 0.25);
  Distribution i = make_int("n", 1, 9, false, 2);
  CHECK(to_internal(i, int64_t{5}) == 5.0);
  CHECK(!to_internal(i, int64_t{4}));
  CHECK(!to_internal(i, 5.0));
  CHECK(std::get<int64_t>(to_external(i, 4.2)) == 5);
  Distribution c = make_categorical("c", {std::string("a"), int64_t{3}, true});
  CHECK(to_internal(c, int64_t{3}) == 1.0);
  CHECK(!to_internal(c, std::string("b")));
  CHECK(std::get<bool>(to_external(c, 2.0)));
}

TEST_CASE("distributions round-trip through JSON, and malformed ones are refused") {
  for (const Distribution& d :
       {Distribution(make_float("x", 1e-3, 1.0, true, std::nullopt)),
        Distribution(make_float("x", 0, 1, false, 0.5)),
        Distribution(make_int("n", 1, 64, true, 1)),
        Distribution(make_categorical("c", {std::string("a"), 2.5, int64_t{7}, false}))})
    CHECK(distribution_from_json(to_json(d)) == d);
  CHECK_THROWS_AS(distribution_from_json({{"type", "gaussian"}}), nabla::ValueError);
  CHECK_THROWS_AS(distribution_from_json({{"type", "float"}, {"low", 0}}), nabla::ValueError);
  CHECK_THROWS_AS(distribution_from_json({{"type", "categorical"}, {"choices", {{1, 2}}}}),
                  nabla::ValueError);
}

TEST_CASE("uniform draws cover every grid point and choice, and log draws the log scale") {
  Rng rng(42);
  Distribution i = make_int("n", 1, 5, false, 1);
  std::map<double, int> counts;
  for (int k = 0; k < 5000; ++k) counts[sample_uniform(i, rng)]++;
  CHECK(counts.size() == 5);
  for (const auto& [v, n] : counts) CHECK(n == doctest::Approx(1000).epsilon(0.1));
  Distribution lg = make_float("lr", 1e-4, 1.0, true, std::nullopt);
  int below = 0;
  for (int k = 0; k < 4000; ++k) below += sample_uniform(lg, rng) < 1e-2;
  CHECK(below == doctest::Approx(2000).epsilon(0.08));
}

TEST_CASE("keyed streams depend on their keys only") {
  CHECK(Rng::keyed(1, 5, "lr").next() == Rng::keyed(1, 5, "lr").next());
  CHECK(Rng::keyed(1, 5, "lr").next() != Rng::keyed(1, 6, "lr").next());
  CHECK(Rng::keyed(1, 5, "lr").next() != Rng::keyed(1, 5, "wd").next());
  CHECK(Rng::keyed(1, 5, "lr", 1).next() != Rng::keyed(1, 5, "lr").next());
}
