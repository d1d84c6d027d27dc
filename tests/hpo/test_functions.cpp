// The test functions themselves: their optima where the literature puts them.
#include <doctest/doctest.h>

#include "functions.h"

using namespace nabla::hpo::testing;

TEST_CASE("the test functions reach their stated optima at their minimizers") {
  const double pi = std::numbers::pi;
  CHECK(branin({(pi + 5) / 15, 2.275 / 15}) == doctest::Approx(0.397887357729738));
  CHECK(branin({(9.42478 + 5) / 15, 2.475 / 15}) == doctest::Approx(0.397887).epsilon(1e-5));
  CHECK(hartmann6({0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573}) ==
        doctest::Approx(-3.32237).epsilon(1e-5));
  CHECK(rosenbrock({1, 1}) == 0);
  CHECK(ackley({0, 0}) == doctest::Approx(0).scale(1));
  CHECK(levy({1, 1}) == doctest::Approx(0).scale(1));
  auto front = zdt({0.25, 0, 0}, false);
  CHECK(front[1] == doctest::Approx(0.5));
  CHECK(zdt({0.5, 0, 0}, true)[1] == doctest::Approx(0.75));
}
