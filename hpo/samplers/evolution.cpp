// Generations from trial attributes, tournaments, and crossover and mutation.
#include "hpo/samplers/evolution.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "hpo/samplers/encoding.h"
#include "hpo/samplers/random.h"
#include "hpo/storage.h"

namespace nabla::hpo {

// Note [generational samplers]: the population is a function of the visible history alone. A
// trial sampled for generation g carries system_attrs[name()] = {space (fingerprint),
// generation, parents (trial numbers, from generation 1)}. Replaying the history in number order:
// generation 0 is the first population_size complete trials that have every parameter of the
// space, however they were sampled (the independent sampler, enqueued trials, an earlier
// sampler), except those tagged with a later generation of the same space; generation g >= 1 is
// the first `offspring` complete trials tagged g. A full generation 0 is ranked into the first
// population; each full generation after it survives with its parents into the next one (the
// subclass says how: elitism, NSGA-II's crowded sort). Late members of a generation already full
// are ignored. In one process's optimize() the histories are prefixes of each other by number
// (Note [visible history]), so all trials agree on every generation and a seeded study is the
// same with any n_jobs.

void VariationOptions::validate() const {
  NABLA_CHECK(crossover_prob >= 0 && crossover_prob <= 1, ValueError,
              "VariationOptions::validate: crossover_prob must be in [0, 1], got ", crossover_prob);
  NABLA_CHECK(sbx_eta >= 0 && std::isfinite(sbx_eta), ValueError,
              "VariationOptions::validate: sbx_eta must be >= 0, got ", sbx_eta);
  NABLA_CHECK(!mutation_prob || (*mutation_prob >= 0 && *mutation_prob <= 1), ValueError,
              "VariationOptions::validate: mutation_prob must be in [0, 1], got ", *mutation_prob);
  NABLA_CHECK(mutation_sigma > 0 && std::isfinite(mutation_sigma), ValueError,
              "VariationOptions::validate: mutation_sigma must be > 0, got ", mutation_sigma);
}

int64_t tournament(int64_t size, int64_t k, Rng& rng) {
  NABLA_CHECK(k >= 1 && k <= size, ValueError,
              "tournament: needs 1 <= k <= population size, got k = ", k, " of ", size);
  // A partial Fisher-Yates shuffle draws the k distinct contestants.
  std::vector<int64_t> members(static_cast<size_t>(size));
  std::iota(members.begin(), members.end(), int64_t{0});
  int64_t best = size;
  for (int64_t i = 0; i < k; ++i) {
    const int64_t j = i + rng.integer(size - i);
    std::swap(members[static_cast<size_t>(i)], members[static_cast<size_t>(j)]);
    best = std::min(best, members[static_cast<size_t>(i)]);
  }
  return best;
}

namespace {

// One child gene of simulated binary crossover (Deb & Agrawal 1995): the spread factor beta
// has density proportional to beta^eta below 1 and beta^-(eta + 2) above, and the two children
// sit symmetrically about the parents' mean at beta times their distance.
double sbx(double a, double b, double eta, Rng& rng) {
  const double u = rng.uniform();
  const double beta =
      u <= 0.5 ? std::pow(2 * u, 1 / (eta + 1)) : std::pow(1 / (2 * (1 - u)), 1 / (eta + 1));
  const double sign = rng.uniform() < 0.5 ? 1.0 : -1.0;
  return std::clamp(0.5 * ((a + b) + sign * beta * (a - b)), 0.0, 1.0);
}

std::vector<double> vary(const SearchSpace& space, const std::vector<double>& first,
                         const std::vector<double>& second, const VariationOptions& options,
                         Rng& rng) {
  std::vector<double> child = first;
  if (rng.uniform() < options.crossover_prob) {
    size_t i = 0;
    for (const auto& [param, d] : space) {
      if (is_numeric(d) && rng.uniform() < 0.5)
        child[i] = sbx(first[i], second[i], options.sbx_eta, rng);
      else
        child[i] = rng.uniform() < 0.5 ? first[i] : second[i];
      ++i;
    }
  }
  const double p = options.mutation_prob.value_or(1.0 / static_cast<double>(space.size()));
  size_t i = 0;
  for (const auto& [param, d] : space) {
    if (rng.uniform() < p) {
      if (is_numeric(d))
        child[i] = std::clamp(child[i] + options.mutation_sigma * rng.normal(), 0.0, 1.0);
      else
        child[i] = sample_uniform(d, rng);
    }
    ++i;
  }
  return child;
}

}  // namespace

GenerationalSampler::GenerationalSampler(std::optional<uint64_t> seed, Settings settings)
    : Sampler(seed), settings_(std::move(settings)) {
  if (!settings_.independent_sampler)
    settings_.independent_sampler = std::make_shared<RandomSampler>(this->seed());
}

SearchSpace GenerationalSampler::infer_relative_search_space(const SamplerContext& ctx) {
  NABLA_CHECK(!settings_.single_objective || ctx.directions.size() == 1, ValueError, name(),
              "::infer_relative_search_space: optimizes one objective, the study has ",
              ctx.directions.size());
  return intersection(ctx);
}

double GenerationalSampler::sample_independent(const SamplerContext& ctx, const std::string& param,
                                               const Distribution& d) {
  return settings_.independent_sampler->sample_independent(ctx, param, d);
}

GenerationalSampler::Replayed GenerationalSampler::replay(std::span<const TrialPtr> history,
                                                          std::span<const Direction> directions,
                                                          const SearchSpace& space) const {
  const std::string fingerprint = space_fingerprint(space);
  const std::string key = name();
  Replayed out;
  std::vector<Individual> bucket;
  for (const auto& t : history) {
    if (t->state != TrialState::complete) continue;
    int64_t generation = 0;
    if (auto tag = t->system_attrs.find(key); tag != t->system_attrs.end() && tag->is_object() &&
                                              tag->value("space", std::string()) == fingerprint)
      generation = tag->value("generation", int64_t{0});
    if (generation != out.generation) continue;
    Individual member{.number = t->number, .values = t->values};
    for (const auto& [param, d] : space) {
      auto v = t->internal_value(param, d);
      if (!v) break;
      member.genes.push_back(is_numeric(d) ? to_unit(d, *v) : *v);
    }
    if (member.genes.size() != space.size()) continue;
    bucket.push_back(std::move(member));
    const int64_t needed = out.generation == 0 ? settings_.population_size : settings_.offspring;
    if (static_cast<int64_t>(bucket.size()) < needed) continue;
    out.parents = out.generation == 0
                      ? rank(std::move(bucket), directions)
                      : survive(std::move(out.parents), std::move(bucket), directions);
    bucket.clear();
    ++out.generation;
  }
  return out;
}

Population GenerationalSampler::population(std::span<const TrialPtr> history,
                                           std::span<const Direction> directions) const {
  const SearchSpace space = intersection_search_space(history);
  if (space.empty()) return {};
  Replayed r = replay(history, directions, space);
  Population out{.generation = r.generation};
  for (const auto& member : r.parents) out.parents.push_back(member.number);
  return out;
}

std::map<std::string, double> GenerationalSampler::sample_relative(const SamplerContext& ctx,
                                                                   const SearchSpace& space) {
  const SearchSpace full = intersection(ctx);
  if (full.empty()) return {};
  const Replayed r = replay(ctx.history, ctx.directions, full);
  nlohmann::json tag = {{"space", space_fingerprint(full)}, {"generation", r.generation}};
  if (r.generation == 0) {
    ctx.storage.set_trial_system_attr(ctx.trial.id, name(), tag);
    return {};
  }
  Rng rng = this->rng(ctx, name());
  const auto size = static_cast<int64_t>(r.parents.size());
  const auto& first =
      r.parents[static_cast<size_t>(tournament(size, settings_.tournament_size, rng))];
  const auto& second =
      r.parents[static_cast<size_t>(tournament(size, settings_.tournament_size, rng))];
  const std::vector<double> child = vary(full, first.genes, second.genes, settings_.variation, rng);
  tag["parents"] = {first.number, second.number};
  ctx.storage.set_trial_system_attr(ctx.trial.id, name(), tag);
  std::map<std::string, double> out;
  size_t i = 0;
  for (const auto& [param, d] : full) {
    if (space.contains(param))
      out[param] = is_numeric(d) ? snap(d, from_unit(d, child[i])) : child[i];
    ++i;
  }
  return out;
}

}  // namespace nabla::hpo
