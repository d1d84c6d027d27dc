// The sampler base: seeding, the default hooks, and the uniform draw every sampler falls back to.
#include "hpo/sampler.h"

#include <cmath>
#include <random>

namespace nabla::hpo {

namespace {
uint64_t fresh_seed() {
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}
}  // namespace

Sampler::Sampler(std::optional<uint64_t> seed) : seed_(seed ? *seed : fresh_seed()) {}

SearchSpace intersection(const SamplerContext& ctx) {
  return ctx.intersection ? *ctx.intersection : intersection_search_space(ctx.history);
}

SearchSpace Sampler::infer_relative_search_space(const SamplerContext&) { return {}; }

std::map<std::string, double> Sampler::sample_relative(const SamplerContext&, const SearchSpace&) {
  return {};
}

void Sampler::after_trial(const SamplerContext&, TrialState) {}

bool Sampler::exhausted(std::span<const TrialPtr>) { return false; }

double sample_uniform(const Distribution& d, Rng& rng) {
  if (const auto* f = std::get_if<FloatDistribution>(&d)) {
    if (f->step) {
      const int64_t n = *cardinality(d);
      return f->low + static_cast<double>(rng.integer(n)) * *f->step;
    }
    if (f->log) return std::exp(rng.uniform(std::log(f->low), std::log(f->high)));
    return rng.uniform(f->low, f->high);
  }
  if (const auto* i = std::get_if<IntDistribution>(&d)) {
    if (i->log) {
      // Uniform in log over [low - 0.5, high + 0.5], so each integer gets its share of the scale.
      const double lo = std::log(static_cast<double>(i->low) - 0.5 + 1e-12);
      const double hi = std::log(static_cast<double>(i->high) + 0.5);
      return snap(d, std::exp(rng.uniform(lo, hi)));
    }
    const int64_t n = (i->high - i->low) / i->step + 1;
    return static_cast<double>(i->low + rng.integer(n) * i->step);
  }
  const auto& c = std::get<CategoricalDistribution>(d);
  return static_cast<double>(rng.integer(static_cast<int64_t>(c.choices.size())));
}

}  // namespace nabla::hpo
