// Dominance, non-dominated sorting, crowding distance and hypervolume on hand-computed sets.
#include <doctest/doctest.h>

#include <limits>

#include "hpo/pareto.h"

using namespace nabla::hpo;

TEST_CASE("dominance follows each objective's direction") {
  const std::vector<Direction> min2 = {Direction::minimize, Direction::minimize};
  const std::vector<Direction> mixed = {Direction::minimize, Direction::maximize};
  CHECK(dominates(std::vector<double>{1, 1}, std::vector<double>{2, 1}, min2));
  CHECK(!dominates(std::vector<double>{1, 1}, std::vector<double>{1, 1}, min2));
  CHECK(!dominates(std::vector<double>{1, 2}, std::vector<double>{2, 1}, min2));
  CHECK(dominates(std::vector<double>{1, 2}, std::vector<double>{2, 1}, mixed));
}

TEST_CASE("non-dominated sorting peels the fronts in order") {
  const std::vector<Direction> min2 = {Direction::minimize, Direction::minimize};
  const std::vector<std::vector<double>> points = {{1, 5}, {2, 2}, {5, 1}, {3, 3}, {4, 4}, {6, 6}};
  auto fronts = non_dominated_sort(points, min2);
  REQUIRE(fronts.size() == 4);
  CHECK(fronts[0] == std::vector<size_t>{0, 1, 2});
  CHECK(fronts[1] == std::vector<size_t>{3});
  CHECK(fronts[2] == std::vector<size_t>{4});
  CHECK(fronts[3] == std::vector<size_t>{5});
}

TEST_CASE("crowding distance: neighbours' gaps over each objective's range, boundaries infinite") {
  const double inf = std::numeric_limits<double>::infinity();
  // f0 order 1, 2, 4, 6 (range 5); f1 order 1, 2, 3, 5 (range 4).
  // (2, 3): (4 - 1) / 5 + (5 - 2) / 4 = 1.35; (4, 2): (6 - 2) / 5 + (3 - 1) / 4 = 1.3.
  const auto d = crowding_distance({{1, 5}, {2, 3}, {4, 2}, {6, 1}});
  REQUIRE(d.size() == 4);
  CHECK(d[0] == inf);
  CHECK(d[1] == doctest::Approx(1.35));
  CHECK(d[2] == doctest::Approx(1.3));
  CHECK(d[3] == inf);
  CHECK(crowding_distance({{1, 2}, {2, 1}}) == std::vector<double>{inf, inf});
  CHECK(crowding_distance({}).empty());
  // A front agreeing on every objective has nothing to separate; an infinite range adds only the
  // extremes.
  CHECK(crowding_distance({{1, 1}, {1, 1}, {1, 1}}) == std::vector<double>{0, 0, 0});
  CHECK(crowding_distance({{-inf, 0}, {0, 1}, {inf, 2}}) == std::vector<double>{inf, 1, inf});
}

TEST_CASE("hypervolume of staircases in two and three objectives") {
  const std::vector<Direction> min2 = {Direction::minimize, Direction::minimize};
  const std::vector<double> ref2 = {4, 4};
  // Staircase (1,3), (2,2), (3,1) under (4,4): 3 + 2 + 1 = 6.
  CHECK(hypervolume({{1, 3}, {2, 2}, {3, 1}}, ref2, min2) == doctest::Approx(6));
  // A dominated point and one beyond the reference add nothing.
  CHECK(hypervolume({{1, 3}, {2, 2}, {3, 1}, {3, 3}, {5, 0}}, ref2, min2) == doctest::Approx(6));
  const std::vector<Direction> max2 = {Direction::maximize, Direction::maximize};
  CHECK(hypervolume({{3, 1}, {1, 3}}, std::vector<double>{0, 0}, max2) == doctest::Approx(5));
  const std::vector<Direction> min3(3, Direction::minimize);
  // Boxes [0,2]x[1,2]x[0,1] and [1,2]x[0,2]x[0,1] under reference (2,2,1): 2 + 2 - 1 = 3.
  CHECK(hypervolume({{0, 1, 0}, {1, 0, 0}}, std::vector<double>{2, 2, 1}, min3) ==
        doctest::Approx(3));
}
