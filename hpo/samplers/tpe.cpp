// TPE and MOTPE: the good/bad split of the observations, a Parzen estimator per group, and the
// candidate with the largest l/g.
#include "hpo/samplers/tpe.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "hpo/ranking.h"

namespace nabla::hpo {

int64_t default_gamma(int64_t n) { return std::min<int64_t>((n + 9) / 10, 25); }

std::function<int64_t(int64_t)> fixed_fraction_gamma(double fraction) {
  NABLA_CHECK(fraction > 0 && fraction <= 1, ValueError,
              "fixed_fraction_gamma: fraction must be in (0, 1], got ", fraction);
  // The tolerance keeps 0.1 * 30 = 3.0000000000000004 at 3.
  return [fraction](int64_t n) {
    return std::min(n, static_cast<int64_t>(std::ceil(fraction * static_cast<double>(n) - 1e-9)));
  };
}

std::vector<double> default_weights(int64_t n) {
  constexpr int64_t kFlat = 25;
  std::vector<double> w(static_cast<size_t>(std::max<int64_t>(n, 0)), 1.0);
  const int64_t ramp = n - kFlat;
  const double start = 1.0 / static_cast<double>(n);
  for (int64_t i = 0; i < ramp; ++i)
    w[static_cast<size_t>(i)] =
        start + (1 - start) * static_cast<double>(i) / static_cast<double>(ramp);
  return w;
}

void TpeOptions::validate() const {
  NABLA_CHECK(n_startup_trials >= 0, ValueError, "TpeOptions: n_startup_trials must be >= 0, got ",
              n_startup_trials);
  NABLA_CHECK(n_ei_candidates >= 1, ValueError, "TpeOptions: n_ei_candidates must be >= 1, got ",
              n_ei_candidates);
  NABLA_CHECK(static_cast<bool>(gamma), ValueError, "TpeOptions: gamma is an empty function");
  NABLA_CHECK(static_cast<bool>(weights), ValueError, "TpeOptions: weights is an empty function");
  NABLA_CHECK(std::isfinite(prior_weight) && prior_weight > 0, ValueError,
              "TpeOptions: prior_weight must be finite and > 0, got ", prior_weight);
  prior_trials.validate("TpeOptions::prior_trials");
}

namespace {

bool observed(const FrozenTrial& t) {
  return t.state == TrialState::complete || t.state == TrialState::pruned;
}

int64_t count_observed(std::span<const TrialPtr> trials) {
  int64_t n = 0;
  for (const auto& t : trials) n += observed(*t) ? 1 : 0;
  return n;
}

std::vector<double> checked_weights(const TpeOptions& options, int64_t n) {
  std::vector<double> w = options.weights(n);
  NABLA_CHECK(static_cast<int64_t>(w.size()) == n, ValueError, "TpeSampler: weights(", n,
              ") returned ", w.size(), " weights");
  for (double x : w)
    NABLA_CHECK(std::isfinite(x) && x >= 0, ValueError, "TpeSampler: weights(", n,
                ") returned the weight ", x, ", expected finite and >= 0");
  return w;
}

// One set of trials split in two, as indices into it (in increasing order) with their weights.
struct IndexSplit {
  std::vector<size_t> good, bad;
  std::vector<double> good_weights, bad_weights;
};

// Note [TPE observations]: the observations are the complete and pruned trials; failed ones teach
// nothing. They are ranked complete trials first, by value (with several objectives: Note
// [ranking several objectives] in ranking.h), then pruned trials, deeper last step first and, at
// the same step, by the last reported value (one objective) or number. The best gamma(n) of the n
// form the good group, so a pruned trial is good only while fewer than gamma(n) trials completed;
// the rest are bad. Each group is weighted in trial-number order by options.weights, except that
// with several objectives a good trial weighs its hypervolume contribution to the good group over
// the largest one (Ozaki et al. 2022, Sec. 3.3), floored at 1e-12 so that l stays a mixture over
// the whole group. prior_trials are split the same way among themselves and join both groups with
// their weight (times the contribution ratio when good, with several objectives). For each
// parameter only the trials whose value its current distribution can produce take part
// (FrozenTrial::internal_value): a categorical's dropped choice, a value of a narrowed range, a
// parameter of another branch are left out.
IndexSplit split_indices(std::span<const TrialPtr> trials, std::span<const Direction> directions,
                         const TpeOptions& options, std::optional<double> flat_weight) {
  IndexSplit out;
  std::vector<size_t> complete, pruned;
  for (size_t i = 0; i < trials.size(); ++i) {
    const FrozenTrial& t = *trials[i];
    if (t.state == TrialState::complete) {
      NABLA_CHECK(t.values.size() == directions.size(), ValueError, "TpeSampler: trial ", t.number,
                  " has ", t.values.size(), " values for a study of ", directions.size(),
                  " objectives");
      complete.push_back(i);
    } else if (t.state == TrialState::pruned) {
      pruned.push_back(i);
    }
  }
  const int64_t n = static_cast<int64_t>(complete.size() + pruned.size());
  if (n == 0) return out;
  const int64_t n_good = options.gamma(n);
  NABLA_CHECK(n_good >= 0 && n_good <= n, ValueError, "TpeSampler: gamma(", n, ") returned ",
              n_good, ", expected a size in [0, ", n, "]");

  std::vector<std::vector<double>> points;
  for (size_t i : complete) points.push_back(trials[i]->values);
  std::vector<bool> good(trials.size(), false);
  const size_t good_complete = std::min(static_cast<size_t>(n_good), complete.size());
  for (size_t r : best_first(points, directions, good_complete)) good[complete[r]] = true;
  if (static_cast<size_t>(n_good) > complete.size()) {
    const bool single = directions.size() == 1;
    auto depth = [&](size_t i) {
      const auto step = trials[i]->last_step();
      return step ? *step : int64_t{-1};
    };
    auto last = [&](size_t i) {
      const double v = trials[i]->intermediate_values.rbegin()->second[0];
      return directions[0] == Direction::minimize ? v : -v;
    };
    std::stable_sort(pruned.begin(), pruned.end(), [&](size_t a, size_t b) {
      if (depth(a) != depth(b)) return depth(a) > depth(b);
      return single && depth(a) >= 0 && last(a) < last(b);
    });
    for (size_t r = 0; r < static_cast<size_t>(n_good) - complete.size(); ++r)
      good[pruned[r]] = true;
  }
  for (size_t i = 0; i < trials.size(); ++i)
    if (observed(*trials[i])) (good[i] ? out.good : out.bad).push_back(i);

  const auto n_good_trials = static_cast<int64_t>(out.good.size());
  const auto n_bad_trials = static_cast<int64_t>(out.bad.size());
  if (directions.size() > 1) {
    std::vector<std::vector<double>> good_points;
    for (size_t i : out.good)
      if (trials[i]->state == TrialState::complete) good_points.push_back(trials[i]->values);
    std::vector<double> contributions;
    if (!good_points.empty())
      contributions = hypervolume_contributions(
          good_points, hypervolume_reference(points, directions), directions);
    const double most =
        contributions.empty() ? 0 : *std::max_element(contributions.begin(), contributions.end());
    size_t c = 0;
    for (size_t i : out.good) {
      const bool is_complete = trials[i]->state == TrialState::complete;
      double ratio = 1;
      if (most > 0) ratio = std::max(is_complete ? contributions[c] / most : 0.0, 1e-12);
      if (is_complete) ++c;
      out.good_weights.push_back(ratio * flat_weight.value_or(1.0));
    }
  } else if (flat_weight) {
    out.good_weights.assign(static_cast<size_t>(n_good_trials), *flat_weight);
  } else {
    out.good_weights = checked_weights(options, n_good_trials);
  }
  out.bad_weights = flat_weight
                        ? std::vector<double>(static_cast<size_t>(n_bad_trials), *flat_weight)
                        : checked_weights(options, n_bad_trials);
  return out;
}

void append(std::span<const TrialPtr> trials, const IndexSplit& split, TpeSplit& out) {
  for (size_t r = 0; r < split.good.size(); ++r) {
    out.good.trials.push_back(trials[split.good[r]]);
    out.good.weights.push_back(split.good_weights[r]);
  }
  for (size_t r = 0; r < split.bad.size(); ++r) {
    out.bad.trials.push_back(trials[split.bad[r]]);
    out.bad.weights.push_back(split.bad_weights[r]);
  }
}

}  // namespace

TpeSplit tpe_split(std::span<const TrialPtr> history, std::span<const Direction> directions,
                   const TpeOptions& options) {
  TpeSplit out;
  append(history, split_indices(history, directions, options, std::nullopt), out);
  const auto& prior = options.prior_trials;
  append(prior.trials, split_indices(prior.trials, directions, options, prior.weight), out);
  return out;
}

struct TpeSampler::Split {
  IndexSplit own, prior;  // into the trial's history and into options.prior_trials.trials
};

// Note [TPE columns]: reading a parameter's internal value out of every trial of the history
// (a map lookup, a to_internal) for every suggestion is what made TPE's cost grow faster than its
// history: the trials' maps lie all over memory. So each (parameter, distribution) keeps the
// values of the longest history seen, in order. Histories grow at their end (Note [visible
// history]), so a new one is checked against the kept one trial by trial (pointer equality; the
// kept trials are held, so no other trial takes their address) and only its new trials are read;
// one that differs (another study sharing the sampler) is read from where it departs.
struct TpeSampler::Column {
  std::string param;
  Distribution distribution;
  bool prior = false;  // of options.prior_trials rather than of a history
  std::vector<TrialPtr> trials;
  std::vector<double> values;  // NaN where the trial has no value the distribution can produce
  int64_t last_used = 0;
};

TpeSampler::TpeSampler(TpeOptions options, std::optional<uint64_t> seed)
    : Sampler(seed), options_(std::move(options)) {
  options_.validate();
}

TpeSampler::~TpeSampler() = default;

std::shared_ptr<const TpeSampler::Split> TpeSampler::split(const SamplerContext& ctx) {
  const auto& prior = options_.prior_trials;
  const int64_t seen = count_observed(ctx.history) + count_observed(prior.trials);
  if (seen < options_.n_startup_trials) return nullptr;
  auto compute = [&] {
    auto s = std::make_shared<Split>();
    s->own = split_indices(ctx.history, ctx.directions, options_, std::nullopt);
    s->prior = split_indices(prior.trials, ctx.directions, options_, prior.weight);
    return std::shared_ptr<const Split>(std::move(s));
  };
  if (ctx.history.empty()) return compute();
  auto matches = [&](const CacheEntry& e) {
    return e.trial_id == ctx.trial.id && e.trial_number == ctx.trial.number &&
           e.history_size == ctx.history.size() && e.last == ctx.history.back();
  };
  {
    std::lock_guard lock(cache_mutex_);
    for (const auto& e : cache_)
      if (matches(e)) return e.split;
  }
  auto computed = compute();
  std::lock_guard lock(cache_mutex_);
  cache_.push_back(
      {ctx.trial.id, ctx.trial.number, ctx.history.size(), ctx.history.back(), computed});
  constexpr size_t kCached = 16;
  if (cache_.size() > kCached) cache_.pop_front();
  return computed;
}

std::vector<double> TpeSampler::column(std::span<const TrialPtr> trials, const std::string& param,
                                       const Distribution& d, bool prior) {
  std::lock_guard lock(cache_mutex_);
  Column* c = nullptr;
  for (const auto& kept : columns_)
    if (kept->prior == prior && kept->param == param && kept->distribution == d) c = kept.get();
  if (!c) {
    // A study's parameters are few; a categorical whose choices keep changing could make many.
    constexpr size_t kColumns = 64;
    if (columns_.size() >= kColumns)
      columns_.erase(std::min_element(
          columns_.begin(), columns_.end(),
          [](const auto& a, const auto& b) { return a->last_used < b->last_used; }));
    columns_.push_back(std::make_unique<Column>());
    c = columns_.back().get();
    c->param = param;
    c->distribution = d;
    c->prior = prior;
  }
  c->last_used = ++column_uses_;
  size_t same = 0;
  const size_t shared = std::min(trials.size(), c->trials.size());
  while (same < shared && c->trials[same] == trials[same]) ++same;
  if (same < trials.size()) {
    c->trials.resize(same);
    c->values.resize(same);
    for (size_t i = same; i < trials.size(); ++i) {
      c->trials.push_back(trials[i]);
      c->values.push_back(
          trials[i]->internal_value(param, d).value_or(std::numeric_limits<double>::quiet_NaN()));
    }
  }
  return {c->values.begin(), c->values.begin() + static_cast<std::ptrdiff_t>(trials.size())};
}

std::vector<double> TpeSampler::propose(const SamplerContext& ctx, const Split& split,
                                        const std::vector<std::string>& params,
                                        const std::vector<Distribution>& dims, bool multivariate,
                                        Rng& rng) {
  const ParzenOptions parzen{.prior_weight = options_.prior_weight,
                             .consider_prior = options_.consider_prior,
                             .consider_magic_clip = options_.consider_magic_clip,
                             .consider_endpoints = options_.consider_endpoints,
                             .multivariate = multivariate};
  std::vector<std::vector<double>> own, prior;
  for (size_t j = 0; j < dims.size(); ++j) {
    own.push_back(column(ctx.history, params[j], dims[j], false));
    prior.push_back(column(options_.prior_trials.trials, params[j], dims[j], true));
  }
  // The trials of one group that have a value on every dimension, as the estimator's columns.
  auto fit = [&](const std::vector<size_t>& own_rows, const std::vector<double>& own_weights,
                 const std::vector<size_t>& prior_rows, const std::vector<double>& prior_weights) {
    std::vector<std::vector<double>> columns(dims.size());
    std::vector<double> weights;
    auto add = [&](const std::vector<std::vector<double>>& source, const std::vector<size_t>& rows,
                   const std::vector<double>& row_weights) {
      for (size_t r = 0; r < rows.size(); ++r) {
        bool complete = true;
        for (const auto& values : source) complete = complete && !std::isnan(values[rows[r]]);
        if (!complete) continue;
        for (size_t j = 0; j < dims.size(); ++j) columns[j].push_back(source[j][rows[r]]);
        weights.push_back(row_weights[r]);
      }
    };
    add(own, own_rows, own_weights);
    add(prior, prior_rows, prior_weights);
    return ParzenEstimator(dims, columns, weights, parzen);
  };
  const ParzenEstimator below =
      fit(split.own.good, split.own.good_weights, split.prior.good, split.prior.good_weights);
  const ParzenEstimator above =
      fit(split.own.bad, split.own.bad_weights, split.prior.bad, split.prior.bad_weights);
  const auto candidates = below.sample(rng, options_.n_ei_candidates);
  size_t best = 0;
  double best_score = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < candidates.size(); ++i) {
    // On a grid draws repeat; a repeat scores the same and could not win over its first.
    if (std::find(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(i),
                  candidates[i]) != candidates.begin() + static_cast<std::ptrdiff_t>(i))
      continue;
    // A candidate g gives no mass at all scores +inf: nothing bad was seen there.
    const double score = below.log_pdf(candidates[i]) - above.log_pdf(candidates[i]);
    if (score > best_score) {
      best_score = score;
      best = i;
    }
  }
  return candidates[best];
}

SearchSpace TpeSampler::infer_relative_search_space(const SamplerContext& ctx) {
  if (!options_.multivariate) return {};
  return intersection(ctx);
}

std::map<std::string, double> TpeSampler::sample_relative(const SamplerContext& ctx,
                                                          const SearchSpace& space) {
  if (space.empty()) return {};
  auto s = split(ctx);
  if (!s) return {};
  std::vector<std::string> params;
  std::vector<Distribution> dims;
  for (const auto& [param, d] : space) {
    params.push_back(param);
    dims.push_back(d);
  }
  Rng r = rng(ctx, "tpe:relative");
  const auto point = propose(ctx, *s, params, dims, true, r);
  std::map<std::string, double> out;
  for (size_t j = 0; j < params.size(); ++j) out[params[j]] = point[j];
  return out;
}

double TpeSampler::sample_independent(const SamplerContext& ctx, const std::string& param,
                                      const Distribution& d) {
  Rng r = rng(ctx, param);
  auto s = split(ctx);
  if (!s) return sample_uniform(d, r);
  return propose(ctx, *s, {param}, {d}, false, r)[0];
}

}  // namespace nabla::hpo
