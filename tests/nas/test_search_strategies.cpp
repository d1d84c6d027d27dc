// NAS strategies on the macro space against random search at an equal budget, on a cheap
// synthetic objective: how many of a hidden target architecture's choices a candidate matches.
// No network is trained; the objective has the space's real structure (conditional stages,
// categorical and integer choices) and a single best architecture.
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "hpo/hpo.h"
#include "hpo/nas/macro_space.h"

using namespace nabla::hpo;
using namespace nabla::hpo::nas;

namespace {

const MacroArchitecture& target() {
  static const MacroArchitecture t{
      .base_width = 16,
      .stages = {{.blocks = 2, .width_multiplier = 1.0, .kernel = 5, .type = BlockType::residual},
                 {.blocks = 3,
                  .width_multiplier = 1.5,
                  .kernel = 3,
                  .type = BlockType::inverted_bottleneck,
                  .expansion = 4},
                 {.blocks = 1,
                  .width_multiplier = 0.75,
                  .kernel = 7,
                  .type = BlockType::depthwise_separable}}};
  return t;
}

// Matching choices, at most 1 (the stage count) + 3 x 4 + 1 (the expansion) = 14.
double matches(const MacroArchitecture& a) {
  double score = a.stages.size() == target().stages.size();
  for (size_t s = 0; s < std::min(a.stages.size(), target().stages.size()); ++s) {
    const StageSpec &got = a.stages[s], &want = target().stages[s];
    score += (got.blocks == want.blocks) + (got.width_multiplier == want.width_multiplier) +
             (got.kernel == want.kernel) + (got.type == want.type);
    if (want.type == BlockType::inverted_bottleneck)
      score += got.type == want.type && got.expansion == want.expansion;
  }
  return score;
}

double best_after(const std::shared_ptr<Sampler>& sampler, int64_t budget) {
  Study study = create_study({.directions = {Direction::maximize}, .sampler = sampler});
  study.optimize([](Trial& t) { return matches(sample_architecture(t)); },
                 {.n_trials = budget, .catch_errors = false});
  return study.best_value();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return (v[(v.size() - 1) / 2] + v[v.size() / 2]) / 2;
}

}  // namespace

TEST_CASE("nas strategies: evolution and the RL controller beat random search at 200 trials") {
  constexpr int64_t kBudget = 200;
  std::vector<double> random, evolution, reinforce;
  int evolution_wins = 0, reinforce_wins = 0;
  for (uint64_t seed = 0; seed < 10; ++seed) {
    random.push_back(best_after(std::make_shared<RandomSampler>(seed), kBudget));
    evolution.push_back(
        best_after(std::make_shared<RegularizedEvolutionSampler>(RegularizedEvolutionOptions{
                       .population_size = 20, .sample_size = 5, .seed = seed}),
                   kBudget));
    reinforce.push_back(
        best_after(std::make_shared<ReinforceSampler>(ReinforceOptions{.seed = seed}), kBudget));
    evolution_wins += evolution.back() > random.back();
    reinforce_wins += reinforce.back() > random.back();
  }
  CAPTURE(median(random));
  CAPTURE(median(evolution));
  CAPTURE(median(reinforce));
  CHECK(median(evolution) >= median(random) + 2);
  CHECK(median(reinforce) >= median(random) + 2);
  CHECK(evolution_wins >= 8);
  CHECK(reinforce_wins >= 8);
  CHECK(matches(target()) == 14);
}
