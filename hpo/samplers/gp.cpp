// The GP sampler: observations from the history (and prior studies), the model's fit, and the
// acquisition's maximization by quasi-random candidates and projected L-BFGS.
#include "hpo/samplers/gp.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "hpo/box_lbfgs.h"
#include "hpo/gaussian_process.h"
#include "hpo/samplers/encoding.h"
#include "hpo/samplers/random.h"
#include "hpo/samplers/sobol.h"

namespace nabla::hpo {

namespace {

// The posterior variance is floored here (standardized units): at an observation it is ~0, and
// log EI and its gradient need sd > 0.
constexpr double kMinVariance = 1e-10;

// The prior trials followed by the history: the order recency is counted in.
std::vector<TrialPtr> all_observed(const GpOptions& options, const SamplerContext& ctx) {
  std::vector<TrialPtr> trials = options.prior_trials;
  trials.insert(trials.end(), ctx.history.begin(), ctx.history.end());
  return trials;
}

struct Observation {
  std::vector<double> x;
  double y;
};

// Note [gp observations]: every complete trial (prior ones first, then the history) that has all
// the space's parameters is an observation, its value negated for a minimized objective so that
// the model always maximizes. Past max_observations, the fit keeps the best half by value and the
// most recent trials for the rest: the best ones are where the acquisition's incumbent and
// exploitation live, the recent ones where the search is now, and the cost of a fit (cubic in
// the count) stays bounded on long studies.
std::vector<Observation> observations(const GpOptions& options, const SamplerContext& ctx,
                                      const SearchSpace& space) {
  const double sign = ctx.directions[0] == Direction::maximize ? 1.0 : -1.0;
  std::vector<Observation> out;
  for (const TrialPtr& t : all_observed(options, ctx)) {
    if (t->state != TrialState::complete) continue;
    NABLA_CHECK(t->values.size() == 1, ValueError, "GpSampler::sample_relative: trial ", t->number,
                " has ", t->values.size(), " values; the GP models one objective");
    Observation o{{}, sign * t->values[0]};
    for (const auto& [param, d] : space) {
      const auto v = t->internal_value(param, d);
      if (!v) break;
      o.x.push_back(std::holds_alternative<CategoricalDistribution>(d) ? *v : to_unit(d, *v));
    }
    if (o.x.size() == space.size()) out.push_back(std::move(o));
  }
  if (static_cast<int64_t>(out.size()) <= options.max_observations) return out;
  std::vector<double> utility;
  for (const auto& o : out) utility.push_back(o.y);
  std::vector<Observation> capped;
  for (size_t i : gp_observation_subset(utility, options.max_observations))
    capped.push_back(std::move(out[i]));
  return capped;
}

}  // namespace

std::vector<size_t> gp_observation_subset(const std::vector<double>& utility, int64_t cap) {
  NABLA_CHECK(cap >= 2, ValueError, "gp_observation_subset: cap must be >= 2, got ", cap);
  const size_t n = utility.size(), kept_max = static_cast<size_t>(cap);
  std::vector<size_t> all(n);
  std::iota(all.begin(), all.end(), 0);
  if (n <= kept_max) return all;
  std::vector<size_t> order = all;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return utility[a] > utility[b]; });
  std::vector<uint8_t> keep(n, 0);
  for (size_t i = 0; i < kept_max / 2; ++i) keep[order[i]] = 1;
  size_t kept = kept_max / 2;
  for (size_t i = n; i-- > 0 && kept < kept_max;)
    if (!keep[i]) {
      keep[i] = 1;
      ++kept;
    }
  std::vector<size_t> out;
  for (size_t i = 0; i < n; ++i)
    if (keep[i]) out.push_back(i);
  return out;
}

void GpOptions::validate() const {
  NABLA_CHECK(n_startup_trials >= 1, ValueError,
              "GpOptions::validate: n_startup_trials must be >= 1, got ", n_startup_trials);
  NABLA_CHECK(std::isfinite(ucb_beta) && ucb_beta >= 0, ValueError,
              "GpOptions::validate: ucb_beta must be finite and >= 0, got ", ucb_beta);
  NABLA_CHECK(n_candidates >= 1, ValueError, "GpOptions::validate: n_candidates must be >= 1, got ",
              n_candidates);
  NABLA_CHECK(n_local_searches >= 0, ValueError,
              "GpOptions::validate: n_local_searches must be >= 0, got ", n_local_searches);
  NABLA_CHECK(n_fit_restarts >= 1, ValueError,
              "GpOptions::validate: n_fit_restarts must be >= 1, got ", n_fit_restarts);
  NABLA_CHECK(max_observations >= 2, ValueError,
              "GpOptions::validate: max_observations must be >= 2, got ", max_observations);
  for (size_t i = 0; i < prior_trials.size(); ++i)
    NABLA_CHECK(prior_trials[i], ValueError, "GpOptions::validate: prior_trials[", i, "] is null");
}

GpSampler::GpSampler(GpOptions options) : Sampler(options.seed), options_(std::move(options)) {
  options_.validate();
  independent_ = options_.independent_sampler ? options_.independent_sampler
                                              : std::make_shared<RandomSampler>(seed());
}

SearchSpace GpSampler::infer_relative_search_space(const SamplerContext& ctx) {
  NABLA_CHECK(ctx.directions.size() == 1, ValueError,
              "GpSampler::infer_relative_search_space: Gaussian-process BO models one objective, "
              "but the study has ",
              ctx.directions.size(), " (use a multi-objective sampler such as NSGA-II)");
  const std::vector<TrialPtr> trials = all_observed(options_, ctx);
  const auto complete = std::count_if(trials.begin(), trials.end(), [](const TrialPtr& t) {
    return t->state == TrialState::complete;
  });
  if (complete < options_.n_startup_trials) return {};
  return options_.prior_trials.empty() ? intersection(ctx) : intersection_search_space(trials);
}

std::map<std::string, double> GpSampler::sample_relative(const SamplerContext& ctx,
                                                         const SearchSpace& space) {
  // Not empty: the space is the intersection over complete trials, each one an observation.
  const std::vector<Observation> obs = observations(options_, ctx, space);
  const size_t dims = space.size();
  std::vector<const Distribution*> distributions;
  std::vector<uint8_t> categorical;
  std::vector<size_t> continuous;  // the inputs the local search moves
  std::vector<size_t> gridded;     // those of them with finitely many values (int, stepped float)
  for (const auto& [param, d] : space) {
    const bool is_categorical = std::holds_alternative<CategoricalDistribution>(d);
    if (!is_categorical) continuous.push_back(distributions.size());
    if (!is_categorical && cardinality(d)) gridded.push_back(distributions.size());
    categorical.push_back(is_categorical ? 1 : 0);
    distributions.push_back(&d);
  }

  // Standardized outputs: the hyperprior (Note [gp hyperprior]) assumes unit scale.
  double mean = 0, var = 0;
  for (const auto& o : obs) mean += o.y;
  mean /= static_cast<double>(obs.size());
  for (const auto& o : obs) var += (o.y - mean) * (o.y - mean);
  double sd = std::sqrt(var / static_cast<double>(obs.size()));
  if (!(sd > 1e-12 * std::max(1.0, std::abs(mean)))) sd = 1;
  GpData data{.dims = static_cast<int64_t>(dims), .categorical = categorical};
  double best = -std::numeric_limits<double>::infinity();
  std::vector<double> best_observed;
  for (const auto& o : obs) {
    data.x.insert(data.x.end(), o.x.begin(), o.x.end());
    data.y.push_back((o.y - mean) / sd);
    if (data.y.back() > best) {
      best = data.y.back();
      best_observed = o.x;
    }
  }
  Rng fit_rng = rng(ctx, "gp fit");
  std::vector<double> theta =
      fit_gp_hyperparameters(data, fit_rng, {.restarts = options_.n_fit_restarts});
  const GaussianProcess gp(std::move(data), std::move(theta));

  const bool ei = options_.acquisition == Acquisition::ei;
  auto score = [&](double m, double v, double* d_mean, double* d_sd) {
    const double s = std::sqrt(std::max(v, kMinVariance));
    if (ei) return log_expected_improvement(m, s, best, d_mean, d_sd);
    if (d_mean) *d_mean = 1;
    if (d_sd) *d_sd = std::sqrt(options_.ucb_beta);
    return upper_confidence_bound(m, s, options_.ucb_beta);
  };
  // The acquisition at a full point, and its gradient in the continuous inputs (analytic, through
  // the posterior's gradient).
  std::vector<double> d_mean(dims), d_var(dims);
  auto acquisition = [&](const std::vector<double>& point, std::vector<double>* gradient) {
    double m = 0, v = 0, am = 0, as = 0;
    gp.predict(point.data(), m, v, d_mean.data(), d_var.data());
    const double value = score(m, v, &am, &as);
    if (gradient) {
      // d sd / d x = (d var / d x) / (2 sd), zero where the floor holds.
      const double ds = v > kMinVariance ? 0.5 / std::sqrt(v) : 0.0;
      for (size_t c = 0; c < continuous.size(); ++c)
        (*gradient)[c] = am * d_mean[continuous[c]] + as * ds * d_var[continuous[c]];
    }
    return value;
  };

  // Candidates: a Sobol set under a fresh scramble per trial; categoricals take choice indices.
  Rng candidate_rng = rng(ctx, "gp candidates");
  std::vector<uint64_t> scrambles;
  for (size_t d = 0; d < dims; ++d) scrambles.push_back(candidate_rng.next());
  const size_t n = static_cast<size_t>(options_.n_candidates);
  std::vector<double> candidates(n * dims);
  for (size_t i = 0; i < n; ++i)
    for (size_t d = 0; d < dims; ++d) {
      const double u =
          static_cast<int64_t>(d) < kSobolDimensions
              ? sobol_unit(static_cast<uint32_t>(i), static_cast<int64_t>(d), scrambles[d])
              : candidate_rng.uniform();
      candidates[i * dims + d] = categorical[d] ? decode_unit(*distributions[d], u) : u;
    }
  std::vector<double> means, variances, scores(n);
  gp.predict(candidates, means, variances);
  for (size_t i = 0; i < n; ++i) scores[i] = score(means[i], variances[i], nullptr, nullptr);
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  const size_t searches = std::min(n, static_cast<size_t>(options_.n_local_searches));
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(searches),
                    order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  auto candidate = [&](size_t i) {
    return std::vector<double>(candidates.begin() + static_cast<std::ptrdiff_t>(i * dims),
                               candidates.begin() + static_cast<std::ptrdiff_t>((i + 1) * dims));
  };
  // The point returned is compared with gridded inputs on their grid points (the centre of their
  // cell on [0, 1]), so that a point rounding onto an observed configuration scores as one (sd ~ 0)
  // rather than as the continuous optimum beside it.
  std::vector<double> chosen;
  double chosen_score = -std::numeric_limits<double>::infinity();
  auto consider = [&](std::vector<double> point) {
    for (size_t d : gridded)
      point[d] = to_unit(*distributions[d], decode_unit(*distributions[d], point[d]));
    const double value = acquisition(point, nullptr);
    if (value > chosen_score) {
      chosen_score = value;
      chosen = std::move(point);
    }
  };
  consider(candidate(order[0]));

  std::vector<std::vector<double>> starts;
  for (size_t s = 0; s < searches; ++s) starts.push_back(candidate(order[s]));
  if (searches > 0) starts.push_back(best_observed);
  const std::vector<double> lo(continuous.size(), 0.0), hi(continuous.size(), 1.0);
  const BoxLbfgsOptions lbfgs{
      .max_iterations = 50, .gradient_tolerance = 1e-6, .value_tolerance = 1e-10};
  for (std::vector<double>& point : starts) {
    if (!continuous.empty()) {
      std::vector<double> x0;
      for (size_t d : continuous) x0.push_back(point[d]);
      auto negative = [&](const std::vector<double>& x, std::vector<double>& g) {
        for (size_t c = 0; c < continuous.size(); ++c) point[continuous[c]] = x[c];
        const double value = acquisition(point, &g);
        for (double& gc : g) gc = -gc;
        return -value;
      };
      const BoxLbfgsResult result = minimize_box(negative, std::move(x0), lo, hi, lbfgs);
      for (size_t c = 0; c < continuous.size(); ++c) point[continuous[c]] = result.x[c];
    }
    double value = acquisition(point, nullptr);
    // Categorical inputs: one sweep over every choice, one input at a time.
    for (size_t d = 0; d < dims; ++d) {
      if (!categorical[d]) continue;
      const size_t choices = std::get<CategoricalDistribution>(*distributions[d]).choices.size();
      double kept = point[d];
      for (size_t c = 0; c < choices; ++c) {
        point[d] = static_cast<double>(c);
        const double v = acquisition(point, nullptr);
        if (v > value) {
          value = v;
          kept = point[d];
        }
      }
      point[d] = kept;
    }
    consider(point);
  }

  std::map<std::string, double> out;
  size_t d = 0;
  for (const auto& [param, distribution] : space) {
    out[param] = categorical[d] ? chosen[d] : decode_unit(distribution, chosen[d]);
    ++d;
  }
  return out;
}

double GpSampler::sample_independent(const SamplerContext& ctx, const std::string& param,
                                     const Distribution& d) {
  return independent_->sample_independent(ctx, param, d);
}

}  // namespace nabla::hpo
