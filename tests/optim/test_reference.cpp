// Reference trajectories: every optimizer PyTorch 1.13 has, 20 steps on a fixed problem in
// float64, against the fixture tests/reference/optimizers.py recorded (1e-6 relative).
#include <doctest/doctest.h>

#include <map>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "fixtures.h"
#include "optim/registry.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::testing;

TEST_CASE("reference: each optimizer matches PyTorch 1.13 over 20 steps") {
  nlohmann::json fixture = load_fixture("optimizers.json");
  const ReferenceProblem problem(fixture);
  for (const nlohmann::json& c : fixture["cases"]) {
    std::string name = c["name"];
    SUBCASE(name.c_str()) {
      std::map<std::string, Tensor> p = ReferenceProblem::start(fixture);
      std::unique_ptr<optim::Optimizer> optimizer;
      if (c["groups"].is_null()) {
        optimizer = optim::create(c["optimizer"].get<std::string>(),
                                  optim::NamedTensors{{"w", p["w"]}, {"b", p["b"]}, {"v", p["v"]}},
                                  fixture_options(c["options"]));
      } else {
        const nlohmann::json& groups = c["groups"];
        auto group_params = [&](const nlohmann::json& g) {
          optim::NamedTensors named;
          for (const auto& n : g["params"]) named.emplace_back(n, p[n]);
          return named;
        };
        // PyTorch's defaults are the constructor's options; a group's own override them.
        auto group_options = [&](const nlohmann::json& g) {
          optim::OptionMap options = fixture_options(c["options"]);
          for (const auto& [k, v] : fixture_options(g["options"])) options.insert_or_assign(k, v);
          return options;
        };
        optimizer = optim::create(c["optimizer"].get<std::string>(), group_params(groups[0]),
                                  group_options(groups[0]));
        for (size_t g = 1; g < groups.size(); ++g)
          optimizer->add_param_group(group_params(groups[g]), group_options(groups[g]));
      }
      for (const nlohmann::json& expected : c["trajectory"]) {
        optimizer->step([&] {
          Tensor loss = problem.loss(p);
          backward(loss);
          return loss;
        });
        for (const char* n : {"w", "b", "v"})
          check_values(values(p[n]), expected[n].get<std::vector<double>>(), 1e-6, 1e-12,
                       name + " " + n);
      }
    }
  }
  CHECK(fixture["cases"].size() == 16);
}
