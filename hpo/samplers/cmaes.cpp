// CMA-ES: the strategy parameters, sampling with a margin on grid coordinates, the update, the
// stopping tests behind IPOP restarts, and the replay of generations from trial attributes.
#include "hpo/samplers/cmaes.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "hpo/samplers/encoding.h"
#include "hpo/samplers/random.h"
#include "hpo/storage.h"
#include "hpo/symmetric_eigen.h"

namespace nabla::hpo {

// Note [generations from history]: the sampler keeps no state of its own that the history does
// not determine. Each trial it samples carries system_attrs["cmaes"] = {space (fingerprint),
// restart, generation, popsize, x (the unit-cube point before rounding)}. Replaying the visible
// history in number order, generation g of restart r is complete once `popsize` complete trials
// with that tag are seen; those first `popsize` (by number) update the distribution, later ones
// are ignored, and trials of other generations are ignored too. In one process's optimize() the
// histories are prefixes of each other by number (Note [visible history]), so every trial agrees
// on each generation's members and a seeded study is the same with any n_jobs; processes sharing
// a study may differ on a generation whose member one of them saw finish late. The chain of
// states is cached and reused while the members it was built from match; a changed space starts
// afresh.
//
// A trial whose parameters differ from the rounding of its x (an enqueued value, the study's
// choice of an untried configuration) enters the update at the parameters it ran with.

struct CmaEsSampler::State {
  int64_t restart = 0, generation = 0, popsize = 0;
  double sigma = 0;
  std::vector<double> mean{}, p_sigma{}, p_c{};
  std::vector<double> cov{};                 // n x n, row-major
  std::vector<double> eigvals{}, eigvecs{};  // cov = B diag(eigvals) B^T; B's columns
  std::vector<double> best{};                // each generation's best value, this restart
};

struct CmaEsSampler::Chain {
  std::string fingerprint;
  std::vector<State> states;       // states[i + 1] follows states[i] ...
  std::vector<Generation> inputs;  // ... updated by the members inputs[i], in number order
};

namespace {

constexpr const char* kTag = "cmaes";

// The default parameters of the tutorial (Hansen 2016, Appendix A, Table 1) with positive
// recombination weights on the best mu = floor(lambda / 2) only.
struct Strategy {
  int64_t mu = 0;
  std::vector<double> weights;
  double mu_eff = 0, c_sigma = 0, d_sigma = 0, c_c = 0, c_1 = 0, c_mu = 0, chi_n = 0;
};

Strategy strategy(int64_t dims, int64_t lambda) {
  Strategy s;
  const double n = static_cast<double>(dims);
  s.mu = lambda / 2;
  double sum = 0, squares = 0;
  for (int64_t i = 1; i <= s.mu; ++i) {
    const double w = std::log((static_cast<double>(lambda) + 1) / 2) - std::log(i);
    s.weights.push_back(w);
    sum += w;
  }
  for (double& w : s.weights) {
    w /= sum;
    squares += w * w;
  }
  s.mu_eff = 1 / squares;
  s.c_sigma = (s.mu_eff + 2) / (n + s.mu_eff + 5);
  s.d_sigma = 1 + 2 * std::max(0.0, std::sqrt((s.mu_eff - 1) / (n + 1)) - 1) + s.c_sigma;
  s.c_c = (4 + s.mu_eff / n) / (n + 4 + 2 * s.mu_eff / n);
  s.c_1 = 2 / ((n + 1.3) * (n + 1.3) + s.mu_eff);
  s.c_mu = std::min(1 - s.c_1, 2 * (s.mu_eff - 2 + 1 / s.mu_eff) / ((n + 2) * (n + 2) + s.mu_eff));
  s.chi_n = std::sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n));  // E||N(0, I)||
  return s;
}

// z with P(|N(0, 1)| > z) = alpha, by bisection on erfc (monotone decreasing).
double two_sided_quantile(double alpha) {
  double lo = 0, hi = 40;
  for (int i = 0; i < 200; ++i) {
    const double mid = (lo + hi) / 2;
    (std::erfc(mid / std::sqrt(2.0)) > alpha ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

std::vector<const Distribution*> distributions_of(const SearchSpace& space) {
  std::vector<const Distribution*> out;
  for (const auto& [param, d] : space) out.push_back(&d);
  return out;
}

SearchSpace numeric_space(const SamplerContext& ctx) {
  SearchSpace space = intersection(ctx);
  std::erase_if(space, [](const auto& entry) { return !is_numeric(entry.second); });
  return space;
}

// Note [margin]: rounding makes f flat within a grid cell, so once sigma is small against the
// cell a grid coordinate stops moving and the search is stuck there. CMA-ES with margin (Hamano
// et al. 2022) keeps the marginal probability of leaving the mean's cell at least alpha by
// scaling the coordinate with a diagonal A: x = m + sigma A y, y ~ N(0, C), and the update sees
// y = A^-1 (x - m) / sigma, so the inflation does not feed back into sigma and C. Simplified
// here: A is recomputed from each generation's distribution, A_ii = max(1, s_i / (sigma
// sqrt(C_ii))), with s_i the smallest std that puts probability alpha / 2 beyond each edge of the
// mean's cell that has a neighbouring grid point; Hamano et al. also move the mean, which this
// does not.
std::vector<double> margin_scale(const std::vector<double>& mean, double sigma,
                                 const std::vector<double>& cov,
                                 const std::vector<const Distribution*>& dists, double alpha) {
  const size_t n = dists.size();
  std::vector<double> a(n, 1.0);
  const double z = two_sided_quantile(alpha);  // P(N(0, 1) > z) = alpha / 2
  for (size_t i = 0; i < n; ++i) {
    const Distribution& d = *dists[i];
    const auto step = grid_step(d);
    if (!step) continue;
    const double m = std::clamp(mean[i], 0.0, 1.0);
    const double v = snap(d, from_unit(d, m));
    double reach = 0;  // how far the std must reach, in units of z
    if (snap(d, v - *step) != v) reach = std::max(reach, m - to_unit(d, v - *step / 2));
    if (snap(d, v + *step) != v) reach = std::max(reach, to_unit(d, v + *step / 2) - m);
    a[i] = std::max(1.0, reach / z / (sigma * std::sqrt(cov[i * n + i])));
  }
  return a;
}

}  // namespace

void CmaEsOptions::validate() const {
  NABLA_CHECK(std::isfinite(sigma0) && sigma0 > 0, ValueError,
              "CmaEsOptions::validate: sigma0 must be > 0 (unit-cube units), got ", sigma0);
  NABLA_CHECK(!popsize || *popsize >= 2, ValueError,
              "CmaEsOptions::validate: popsize must be >= 2, got ", *popsize);
  NABLA_CHECK(inc_popsize >= 1, ValueError,
              "CmaEsOptions::validate: inc_popsize must be >= 1, got ", inc_popsize);
  NABLA_CHECK(tol_x >= 0 && tol_fun >= 0, ValueError,
              "CmaEsOptions::validate: tol_x and tol_fun must be >= 0, got ", tol_x, " and ",
              tol_fun);
  NABLA_CHECK(tol_condition > 1, ValueError,
              "CmaEsOptions::validate: tol_condition must be > 1, got ", tol_condition);
  NABLA_CHECK(!margin || (*margin > 0 && *margin < 1), ValueError,
              "CmaEsOptions::validate: margin must be in (0, 1), got ", *margin);
  NABLA_CHECK(max_resampling >= 0, ValueError,
              "CmaEsOptions::validate: max_resampling must be >= 0, got ", max_resampling);
  for (const auto& [param, value] : x0)
    NABLA_CHECK(std::isfinite(value), ValueError, "CmaEsOptions::validate: x0['", param,
                "'] must be finite, got ", value);
}

CmaEsSampler::CmaEsSampler(CmaEsOptions options)
    : Sampler(options.seed), options_(std::move(options)) {
  options_.validate();
  if (!options_.independent_sampler)
    options_.independent_sampler = std::make_shared<RandomSampler>(seed());
}

CmaEsSampler::~CmaEsSampler() = default;

SearchSpace CmaEsSampler::infer_relative_search_space(const SamplerContext& ctx) {
  NABLA_CHECK(ctx.directions.size() == 1, ValueError,
              "CmaEsSampler::infer_relative_search_space: CMA-ES optimizes one objective, the "
              "study has ",
              ctx.directions.size());
  return numeric_space(ctx);
}

double CmaEsSampler::sample_independent(const SamplerContext& ctx, const std::string& param,
                                        const Distribution& d) {
  return options_.independent_sampler->sample_independent(ctx, param, d);
}

CmaEsSampler::State CmaEsSampler::initial_state(const SearchSpace& space, int64_t restart) const {
  const auto n = static_cast<int64_t>(space.size());
  const auto N = static_cast<size_t>(n);
  State s;
  s.restart = restart;
  const int64_t lambda0 =
      options_.popsize ? *options_.popsize
                       : 4 + static_cast<int64_t>(std::floor(3 * std::log(static_cast<double>(n))));
  s.popsize = static_cast<int64_t>(
      std::llround(static_cast<double>(lambda0) * std::pow(options_.inc_popsize, restart)));
  s.sigma = options_.sigma0;
  s.mean.assign(N, 0.5);
  if (restart == 0) {
    size_t i = 0;
    for (const auto& [param, d] : space) {
      if (auto it = options_.x0.find(param); it != options_.x0.end()) {
        const double v = it->second;
        NABLA_CHECK(snap(d, v) == v, ValueError, "CmaEsSampler: x0['", param, "'] = ", v,
                    " is not a value of ", to_json(d).dump());
        s.mean[i] = to_unit(d, v);
      }
      ++i;
    }
  } else {
    // As in Auger & Hansen (2005), each restart starts from a point drawn uniformly in the search
    // region; keyed by the restart's index, so every trial replaying the history draws the same.
    Rng r = Rng::keyed(seed(), restart, "cmaes restart");
    for (double& m : s.mean) m = r.uniform();
  }
  s.p_sigma.assign(N, 0.0);
  s.p_c.assign(N, 0.0);
  s.cov.assign(N * N, 0.0);
  s.eigvecs.assign(N * N, 0.0);
  s.eigvals.assign(N, 1.0);
  for (size_t i = 0; i < N; ++i) s.cov[i * N + i] = s.eigvecs[i * N + i] = 1;
  return s;
}

CmaEsSampler::State CmaEsSampler::next_state(const State& s, const SearchSpace& space,
                                             Generation ranked) const {
  const size_t n = s.mean.size();
  const Strategy st = strategy(static_cast<int64_t>(n), s.popsize);
  const auto dists = distributions_of(space);
  const double alpha =
      options_.margin.value_or(1.0 / (static_cast<double>(n) * static_cast<double>(s.popsize)));
  const std::vector<double> a = margin_scale(s.mean, s.sigma, s.cov, dists, alpha);

  // y_k = A^-1 (x_k - m) / sigma (Note [margin]); the mean moves to the weighted mean of the
  // points themselves (learning rate c_m = 1).
  std::vector<std::vector<double>> y(static_cast<size_t>(st.mu), std::vector<double>(n));
  std::vector<double> yw(n, 0.0);
  State next = s;
  std::fill(next.mean.begin(), next.mean.end(), 0.0);
  for (size_t k = 0; k < static_cast<size_t>(st.mu); ++k) {
    const auto& x = ranked[k].second;
    for (size_t i = 0; i < n; ++i) {
      y[k][i] = (x[i] - s.mean[i]) / (s.sigma * a[i]);
      yw[i] += st.weights[k] * y[k][i];
      next.mean[i] += st.weights[k] * x[i];
    }
  }

  // Cumulative step-size adaptation (Appendix A): p_sigma accumulates C^-1/2 <y>_w.
  std::vector<double> bty(n, 0.0), whitened(n, 0.0);
  for (size_t j = 0; j < n; ++j)
    for (size_t i = 0; i < n; ++i) bty[j] += s.eigvecs[i * n + j] * yw[i];
  for (size_t j = 0; j < n; ++j) bty[j] /= std::sqrt(s.eigvals[j]);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j) whitened[i] += s.eigvecs[i * n + j] * bty[j];
  const double cs = st.c_sigma;
  double norm = 0;
  for (size_t i = 0; i < n; ++i) {
    next.p_sigma[i] = (1 - cs) * s.p_sigma[i] + std::sqrt(cs * (2 - cs) * st.mu_eff) * whitened[i];
    norm += next.p_sigma[i] * next.p_sigma[i];
  }
  norm = std::sqrt(norm);
  next.sigma = s.sigma * std::exp(cs / st.d_sigma * (norm / st.chi_n - 1));

  // Rank-one and rank-mu updates (Appendix A), with h_sigma stalling p_c while ||p_sigma|| is
  // large, and its variance loss made up by delta(h_sigma).
  const double g = static_cast<double>(s.generation + 1);
  const bool h_sigma = norm / std::sqrt(1 - std::pow(1 - cs, 2 * g)) <
                       (1.4 + 2 / (static_cast<double>(n) + 1)) * st.chi_n;
  const double cc = st.c_c;
  for (size_t i = 0; i < n; ++i)
    next.p_c[i] =
        (1 - cc) * s.p_c[i] + (h_sigma ? std::sqrt(cc * (2 - cc) * st.mu_eff) : 0.0) * yw[i];
  const double delta = h_sigma ? 0.0 : cc * (2 - cc);
  const double keep = 1 + st.c_1 * delta - st.c_1 - st.c_mu;
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i; j < n; ++j) {
      double rank_mu = 0;
      for (size_t k = 0; k < static_cast<size_t>(st.mu); ++k)
        rank_mu += st.weights[k] * y[k][i] * y[k][j];
      const double c =
          keep * s.cov[i * n + j] + st.c_1 * next.p_c[i] * next.p_c[j] + st.c_mu * rank_mu;
      next.cov[i * n + j] = next.cov[j * n + i] = c;
    }
  }

  SymmetricEigen eig = symmetric_eigen(next.cov, static_cast<int64_t>(n));
  // The tutorial (Appendix B.2) keeps the condition number below 1e14: eigenvalues are floored at
  // lambda_max / tol_condition, and reaching the floor counts as a stall.
  const double top = eig.values.back();
  const bool ill = eig.values.front() * options_.tol_condition < top;
  for (double& v : eig.values) v = std::max(v, top / options_.tol_condition);
  if (ill) {
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < n; ++j) {
        double c = 0;
        for (size_t k = 0; k < n; ++k)
          c += eig.vectors[i * n + k] * eig.values[k] * eig.vectors[j * n + k];
        next.cov[i * n + j] = c;
      }
  }
  next.eigvals = std::move(eig.values);
  next.eigvecs = std::move(eig.vectors);
  next.generation = s.generation + 1;

  // Stopping tests (tutorial, Appendix B.3): TolX, TolFun over the best values of the last 10 +
  // ceil(30 n / lambda) generations and this generation's values, and the condition number.
  bool tiny = true;
  for (size_t i = 0; i < n; ++i)
    tiny = tiny && next.sigma * std::sqrt(next.cov[i * n + i]) < options_.tol_x &&
           next.sigma * std::abs(next.p_c[i]) < options_.tol_x;
  next.best.push_back(ranked.front().first);
  const auto window = static_cast<size_t>(
      10 + std::ceil(30 * static_cast<double>(n) / static_cast<double>(s.popsize)));
  bool flat = false;
  if (next.best.size() >= window) {
    double lo = ranked.front().first, hi = ranked.back().first;
    for (size_t k = next.best.size() - window; k < next.best.size(); ++k) {
      lo = std::min(lo, next.best[k]);
      hi = std::max(hi, next.best[k]);
    }
    flat = hi - lo < options_.tol_fun;
  }
  const bool stalled = tiny || flat || ill || !std::isfinite(next.sigma);
  if (stalled && options_.restarts) return initial_state(space, s.restart + 1);
  return next;
}

namespace {

// The point a generation member enters the update with (Note [generations from history]): its
// tagged x where its parameters are that x rounded, else the parameters it ran with. Nothing when
// it lacks one of the space's parameters.
std::optional<std::vector<double>> point_of(const FrozenTrial& t, const nlohmann::json& tag,
                                            const SearchSpace& space) {
  std::vector<double> stored;
  if (auto x = tag.find("x"); x != tag.end() && x->is_array() && x->size() == space.size())
    stored = x->get<std::vector<double>>();
  std::vector<double> point;
  for (const auto& [param, d] : space) {
    const auto actual = t.internal_value(param, d);
    if (!actual) return std::nullopt;
    const size_t k = point.size();
    const bool ran_stored = !stored.empty() && snap(d, from_unit(d, stored[k])) == *actual;
    point.push_back(ran_stored ? stored[k] : to_unit(d, *actual));
  }
  return point;
}

}  // namespace

CmaEsSampler::State CmaEsSampler::current_state(const SamplerContext& ctx,
                                                const SearchSpace& space) {
  const std::string fingerprint = space_fingerprint(space);
  const double sign = ctx.directions[0] == Direction::minimize ? 1.0 : -1.0;
  std::lock_guard lock(mutex_);
  if (!chain_ || chain_->fingerprint != fingerprint)
    chain_ = std::make_unique<Chain>(Chain{fingerprint, {initial_state(space, 0)}, {}});
  auto& states = chain_->states;
  auto& inputs = chain_->inputs;
  size_t i = 0;
  Generation bucket;
  for (const auto& t : ctx.history) {
    if (t->state != TrialState::complete) continue;
    auto tag = t->system_attrs.find(kTag);
    if (tag == t->system_attrs.end() || !tag->is_object()) continue;
    if (tag->value("space", std::string()) != fingerprint ||
        tag->value("restart", int64_t{-1}) != states[i].restart ||
        tag->value("generation", int64_t{-1}) != states[i].generation)
      continue;
    auto point = point_of(*t, *tag, space);
    if (!point) continue;
    bucket.emplace_back(sign * t->values[0], std::move(*point));
    if (static_cast<int64_t>(bucket.size()) < states[i].popsize) continue;
    // The update is a function of the state and the members' (value, point) pairs alone, so a
    // cached step is reused exactly when those match (whichever study or storage they came from).
    if (i < inputs.size() && inputs[i] == bucket) {
      ++i;
      bucket.clear();
      continue;
    }
    states.resize(i + 1);
    inputs.resize(i);
    Generation ranked = bucket;
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const auto& p, const auto& q) { return p.first < q.first; });
    states.push_back(next_state(states[i], space, std::move(ranked)));
    inputs.push_back(std::move(bucket));
    ++i;
    bucket.clear();
  }
  return states[i];
}

std::map<std::string, double> CmaEsSampler::sample_relative(const SamplerContext& ctx,
                                                            const SearchSpace& space) {
  const SearchSpace full = numeric_space(ctx);
  if (full.empty()) return {};
  const State s = current_state(ctx, full);
  const size_t n = full.size();
  const auto dists = distributions_of(full);
  const double alpha =
      options_.margin.value_or(1.0 / (static_cast<double>(n) * static_cast<double>(s.popsize)));
  const std::vector<double> a = margin_scale(s.mean, s.sigma, s.cov, dists, alpha);

  // x = m + sigma A B D z, z ~ N(0, I) (Note [margin]); redrawn while outside the unit cube, then
  // clipped into it.
  Rng r = rng(ctx, kTag);
  std::vector<double> x(n), z(n);
  for (int64_t draw = 0; draw <= options_.max_resampling; ++draw) {
    for (size_t j = 0; j < n; ++j) z[j] = std::sqrt(s.eigvals[j]) * r.normal();
    bool inside = true;
    for (size_t i = 0; i < n; ++i) {
      double y = 0;
      for (size_t j = 0; j < n; ++j) y += s.eigvecs[i * n + j] * z[j];
      x[i] = s.mean[i] + s.sigma * a[i] * y;
      inside = inside && x[i] >= 0 && x[i] <= 1;
    }
    if (inside) break;
  }
  for (double& xi : x) xi = std::clamp(xi, 0.0, 1.0);

  ctx.storage.set_trial_system_attr(ctx.trial.id, kTag,
                                    {{"space", space_fingerprint(full)},
                                     {"restart", s.restart},
                                     {"generation", s.generation},
                                     {"popsize", s.popsize},
                                     {"x", x}});
  std::map<std::string, double> out;
  size_t k = 0;
  for (const auto& [param, d] : full) {
    if (space.contains(param)) out[param] = snap(d, from_unit(d, x[k]));
    ++k;
  }
  return out;
}

}  // namespace nabla::hpo
