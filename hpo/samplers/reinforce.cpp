// REINFORCE over softmax policies: Note [reinforce replay] in reinforce.h.
#include "hpo/samplers/reinforce.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace nabla::hpo {
namespace {

// Choice k's internal number: the index of a categorical, low + k * step on a grid.
double internal_of(const Distribution& d, int64_t k) {
  if (std::holds_alternative<CategoricalDistribution>(d)) return static_cast<double>(k);
  if (const auto* i = std::get_if<IntDistribution>(&d))
    return static_cast<double>(i->low + k * i->step);
  const auto& f = std::get<FloatDistribution>(d);
  return f.low + static_cast<double>(k) * *f.step;
}

int64_t index_of(const Distribution& d, double internal) {
  if (std::holds_alternative<CategoricalDistribution>(d))
    return static_cast<int64_t>(std::llround(internal));
  if (const auto* i = std::get_if<IntDistribution>(&d))
    return (static_cast<int64_t>(std::llround(internal)) - i->low) / i->step;
  const auto& f = std::get<FloatDistribution>(d);
  return static_cast<int64_t>(std::llround((internal - f.low) / *f.step));
}

std::vector<double> softmax(const std::vector<double>& logits) {
  const double top = *std::max_element(logits.begin(), logits.end());
  std::vector<double> p(logits.size());
  double sum = 0;
  for (size_t k = 0; k < p.size(); ++k) sum += p[k] = std::exp(logits[k] - top);
  for (double& v : p) v /= sum;
  return p;
}

}  // namespace

void ReinforceOptions::validate() const {
  NABLA_CHECK(std::isfinite(learning_rate) && learning_rate > 0, ValueError,
              "ReinforceOptions: learning_rate must be positive, got ", learning_rate);
  NABLA_CHECK(baseline_decay >= 0 && baseline_decay < 1, ValueError,
              "ReinforceOptions: baseline_decay must be in [0, 1), got ", baseline_decay);
  NABLA_CHECK(max_choices >= 2, ValueError, "ReinforceOptions: max_choices must be >= 2, got ",
              max_choices);
}

ReinforceSampler::ReinforceSampler(ReinforceOptions options)
    : Sampler(options.seed), options_(options) {
  options_.validate();
}

std::vector<double> ReinforceSampler::probabilities(std::span<const TrialPtr> history,
                                                    Direction direction, const std::string& param,
                                                    const Distribution& d) const {
  const std::optional<int64_t> n = cardinality(d);
  if (!n || *n > options_.max_choices || *n < 2) return {};
  std::vector<double> logits(static_cast<size_t>(*n), 0.0);
  std::optional<double> baseline;
  double scale = 0;
  for (const auto& t : history) {
    if (t->state != TrialState::complete) continue;
    const double reward = direction == Direction::maximize ? t->value() : -t->value();
    if (!baseline) baseline = reward;
    const double gap = reward - *baseline;
    scale = options_.baseline_decay * scale + (1 - options_.baseline_decay) * std::abs(gap);
    if (const auto internal = t->internal_value(param, d); internal && scale > 0) {
      const double step = options_.learning_rate * gap / scale;
      const std::vector<double> p = softmax(logits);
      const auto chosen = static_cast<size_t>(index_of(d, *internal));
      for (size_t k = 0; k < logits.size(); ++k) logits[k] += step * ((k == chosen) - p[k]);
    }
    *baseline = options_.baseline_decay * *baseline + (1 - options_.baseline_decay) * reward;
  }
  return softmax(logits);
}

double ReinforceSampler::sample_independent(const SamplerContext& ctx, const std::string& param,
                                            const Distribution& d) {
  NABLA_CHECK(ctx.directions.size() == 1, ValueError,
              "ReinforceSampler: a study of one objective only, this one has ",
              ctx.directions.size());
  Rng r = rng(ctx, param);
  const std::vector<double> p = probabilities(ctx.history, ctx.directions[0], param, d);
  if (p.empty()) return sample_uniform(d, r);
  double u = r.uniform();
  size_t k = 0;
  while (k + 1 < p.size() && u >= p[k]) u -= p[k++];
  return internal_of(d, static_cast<int64_t>(k));
}

}  // namespace nabla::hpo
