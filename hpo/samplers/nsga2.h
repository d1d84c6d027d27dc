// NSGA-II (Deb, Pratap, Agarwal & Meyarivan 2002) for one or several objectives: binary
// tournaments by front and crowding distance, crossover and mutation, and elitist (mu + lambda)
// survival by the crowded sort.
#pragma once

#include "hpo/samplers/evolution.h"

namespace nabla::hpo {

struct Nsga2Options {
  std::optional<uint64_t> seed{};
  // mu = lambda: each generation after the first runs this many trials, and the best this many of
  // parents and offspring together survive.
  int64_t population_size = 50;
  VariationOptions variation{};
  std::shared_ptr<Sampler> independent_sampler{};  // generation 0 and parameters outside the space

  void validate() const;
};

// NSGA-II's crowded-comparison order over `points`: by non-dominated front, then within a front
// by crowding distance, largest first; ties keep index order. Survival keeps a prefix of it, and
// a binary tournament prefers the earlier of its two contestants.
std::vector<size_t> crowded_order(const std::vector<std::vector<double>>& points,
                                  std::span<const Direction> directions);

// Note [generational samplers] in evolution.cpp. With one objective the fronts are the distinct
// values in order, and NSGA-II is a (mu + lambda) genetic algorithm with binary tournaments.
class Nsga2Sampler final : public GenerationalSampler {
 public:
  explicit Nsga2Sampler(Nsga2Options options = {});
  std::string name() const override { return "nsga2"; }
  const Nsga2Options& options() const { return options_; }

 protected:
  std::vector<Individual> rank(std::vector<Individual> members,
                               std::span<const Direction> directions) const override;
  std::vector<Individual> survive(std::vector<Individual> parents,
                                  std::vector<Individual> offspring,
                                  std::span<const Direction> directions) const override;

 private:
  Nsga2Options options_;
};

}  // namespace nabla::hpo
