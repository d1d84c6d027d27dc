// L-BFGS against PyTorch 1.13's torch.optim.LBFGS, with a fixed step and with the strong-Wolfe
// line search, on optimizers.py's problem in float64: the fixture tests/reference/lbfgs.py
// recorded, compared to 1e-6 relative.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "fixtures.h"
#include "optim/registry.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::testing;

TEST_CASE("reference: lbfgs matches PyTorch 1.13's LBFGS with and without a line search") {
  nlohmann::json fixture = load_fixture("lbfgs.json");
  const ReferenceProblem problem(fixture);
  for (const nlohmann::json& c : fixture["cases"]) {
    std::string name = c["name"];
    SUBCASE(name.c_str()) {
      std::map<std::string, Tensor> p = ReferenceProblem::start(fixture);
      auto optimizer =
          optim::create("lbfgs", optim::NamedTensors{{"w", p["w"]}, {"b", p["b"]}, {"v", p["v"]}},
                        fixture_options(c["options"]));
      optim::Closure closure = [&] {
        Tensor loss = problem.loss(p);
        backward(loss);
        return loss;
      };
      int step = 0;
      double largest = 0;  // the largest relative difference, for the record
      auto compare = [&](const std::vector<double>& got, const std::vector<double>& want,
                         const std::string& what) {
        check_values(got, want, 1e-6, 1e-12, what);
        for (size_t i = 0; i < got.size() && i < want.size(); ++i)
          largest = std::max(largest, std::fabs(got[i] - want[i]) / (std::fabs(want[i]) + 1e-12));
      };
      for (const nlohmann::json& expected : c["trajectory"]) {
        double loss = optimizer->step(closure).loss.item();
        std::string where = name + " step " + std::to_string(++step);
        compare({loss}, {expected["loss"].get<double>()}, where + " loss");
        for (const char* n : {"w", "b", "v"})
          compare(values(p[n]), expected[n].get<std::vector<double>>(), where + " " + n);
      }
      MESSAGE(name, ": ", step, " steps, largest relative difference from PyTorch ", largest);
    }
  }
  CHECK(fixture["cases"].size() == 3);
}
