// NSGA-II's crowded-comparison order, and survival of the best population_size by it.
#include "hpo/samplers/nsga2.h"

#include <algorithm>

#include "core/error.h"
#include "hpo/pareto.h"

namespace nabla::hpo {

void Nsga2Options::validate() const {
  NABLA_CHECK(population_size >= 2, ValueError,
              "Nsga2Options::validate: population_size must be >= 2, got ", population_size);
  variation.validate();
}

std::vector<size_t> crowded_order(const std::vector<std::vector<double>>& points,
                                  std::span<const Direction> directions) {
  std::vector<size_t> order;
  for (const auto& front : non_dominated_sort(points, directions)) {
    std::vector<std::vector<double>> members;
    for (size_t i : front) members.push_back(points[i]);
    const std::vector<double> distance = crowding_distance(members);
    std::vector<size_t> by_distance(front.size());
    for (size_t k = 0; k < front.size(); ++k) by_distance[k] = k;
    // The front is in index order, so a stable sort keeps index order among equal distances.
    std::stable_sort(by_distance.begin(), by_distance.end(),
                     [&](size_t a, size_t b) { return distance[a] > distance[b]; });
    for (size_t k : by_distance) order.push_back(front[k]);
  }
  return order;
}

namespace {

GenerationalSampler::Settings settings_of(const Nsga2Options& options) {
  options.validate();
  return {.population_size = options.population_size,
          .offspring = options.population_size,
          .tournament_size = 2,
          .single_objective = false,
          .variation = options.variation,
          .independent_sampler = options.independent_sampler};
}

}  // namespace

Nsga2Sampler::Nsga2Sampler(Nsga2Options options)
    : GenerationalSampler(options.seed, settings_of(options)), options_(std::move(options)) {}

std::vector<GenerationalSampler::Individual> Nsga2Sampler::rank(
    std::vector<Individual> members, std::span<const Direction> directions) const {
  // Index order is number order here and below: generations are replayed by trial number.
  std::stable_sort(members.begin(), members.end(),
                   [](const Individual& a, const Individual& b) { return a.number < b.number; });
  std::vector<std::vector<double>> points;
  for (const auto& m : members) points.push_back(m.values);
  std::vector<Individual> ranked;
  for (size_t i : crowded_order(points, directions)) ranked.push_back(std::move(members[i]));
  return ranked;
}

std::vector<GenerationalSampler::Individual> Nsga2Sampler::survive(
    std::vector<Individual> parents, std::vector<Individual> offspring,
    std::span<const Direction> directions) const {
  // (mu + lambda): parents and offspring compete together (Deb et al. 2002, section III-C); the
  // survivors keep the crowded order of the combined set, which the tournaments then use.
  for (auto& child : offspring) parents.push_back(std::move(child));
  std::vector<Individual> ranked = rank(std::move(parents), directions);
  ranked.resize(static_cast<size_t>(options_.population_size));
  return ranked;
}

}  // namespace nabla::hpo
