// Search spaces from JSON: parsing, conditions and errors.
#include <doctest/doctest.h>

#include "core/error.h"
#include "hpo/hpo.h"
#include "hpo/space_file.h"

using namespace nabla::hpo;

namespace {

const char* kSpace = R"({
  "optimizer": {"type": "categorical", "choices": ["sgd", "adam"]},
  "lr": {"type": "float", "low": 1e-4, "high": 0.1, "log": true},
  "momentum": {"type": "float", "low": 0.0, "high": 0.99, "if": {"optimizer": "sgd"}},
  "layers": {"type": "int", "low": 1, "high": 4},
  "width2": {"type": "int", "low": 8, "high": 64, "step": 8, "if": {"layers": [2, 3, 4]}}
})";

}  // namespace

TEST_CASE("a JSON search space keeps its order and its conditions") {
  auto space = parse_search_space(nlohmann::ordered_json::parse(kSpace));
  REQUIRE(space.size() == 5);
  CHECK(space[0].name == "optimizer");
  CHECK(space[2].name == "momentum");
  CHECK(space[2].conditions.at("optimizer") == std::vector<ParamValue>{std::string("sgd")});
  CHECK(space[4].conditions.at("layers").size() == 3);
  CHECK(std::get<IntDistribution>(space[4].distribution).step == 8);
}

TEST_CASE("suggest_all suggests a parameter only where its conditions hold") {
  auto space = parse_search_space(nlohmann::ordered_json::parse(kSpace));
  Study study = create_study({.sampler = std::make_shared<RandomSampler>(3)});
  int with_momentum = 0;
  study.optimize(
      [&](Trial& t) {
        auto p = suggest_all(t, space);
        const bool sgd = std::get<std::string>(p.at("optimizer")) == "sgd";
        CHECK(p.contains("momentum") == sgd);
        CHECK(p.contains("width2") == (std::get<int64_t>(p.at("layers")) >= 2));
        with_momentum += sgd;
        return std::get<double>(p.at("lr"));
      },
      {.n_trials = 40});
  CHECK(with_momentum > 5);
  CHECK(with_momentum < 35);
}

TEST_CASE("a malformed search space is refused with the parameter's name") {
  auto parse = [](const char* text) {
    return parse_search_space(nlohmann::ordered_json::parse(text));
  };
  CHECK_THROWS_WITH_AS(parse(R"({"a": {"type": "float", "low": 0, "high": 1, "if": {"b": 1}}})"),
                       "search space: 'a' depends on 'b', which is not listed before it",
                       nabla::ValueError);
  CHECK_THROWS_AS(parse(R"({"a": {"type": "float", "low": 2, "high": 1}})"), nabla::ValueError);
  CHECK_THROWS_AS(parse(R"({"a": 3})"), nabla::ValueError);
  CHECK_THROWS_AS(parse(R"([])"), nabla::ValueError);
}
