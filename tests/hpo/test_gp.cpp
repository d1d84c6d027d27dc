// The Gaussian process (kernel, Cholesky, marginal likelihood and its gradient, posterior,
// acquisitions), the box-constrained L-BFGS under it, and GP-BO against random search.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <sstream>

#include "core/error.h"
#include "functions.h"
#include "hpo/box_lbfgs.h"
#include "hpo/hpo.h"

using namespace nabla::hpo;
using namespace nabla::hpo::testing;

namespace {

// n points on [0, 1]^dims (inputs listed in `categorical` hold a choice index of 3 instead) with
// values of a smooth function, standardized.
GpData smooth_data(int64_t n, int64_t dims, uint64_t seed, std::vector<uint8_t> categorical = {}) {
  Rng rng(seed);
  GpData data{.dims = dims, .categorical = categorical};
  for (int64_t i = 0; i < n; ++i) {
    double y = 0;
    for (int64_t k = 0; k < dims; ++k) {
      const bool choice = !categorical.empty() && categorical[static_cast<size_t>(k)];
      const double x = choice ? static_cast<double>(rng.integer(3)) : rng.uniform();
      data.x.push_back(x);
      y += choice ? 0.3 * x : std::sin(3 * x + static_cast<double>(k));
    }
    data.y.push_back(y);
  }
  double mean = 0, var = 0;
  for (double y : data.y) mean += y / static_cast<double>(n);
  for (double y : data.y) var += (y - mean) * (y - mean) / static_cast<double>(n);
  for (double& y : data.y) y = (y - mean) / std::sqrt(var);
  return data;
}

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::numbers::sqrt2); }
double normal_pdf(double z) { return std::exp(-0.5 * z * z) / std::sqrt(2 * std::numbers::pi); }

}  // namespace

TEST_CASE("the Matern-5/2 kernel matches its closed form, with ARD and Hamming distances") {
  CHECK(matern52(0) == 1);
  CHECK(matern52(0.5) == doctest::Approx(0.8286491424181253).epsilon(1e-14));
  CHECK(matern52(1) == doctest::Approx(0.5239941088318203).epsilon(1e-14));
  CHECK(matern52(2) == doctest::Approx(0.13866021913850426).epsilon(1e-14));

  // Lengthscales 0.5 and 2, signal variance 1.5: r^2 = (0.3 / 0.5)^2 + (0.4 / 2)^2 = 0.4.
  GpData data{.dims = 2, .x = {0.1, 0.2}, .y = {0.0}};
  GaussianProcess gp(data, {std::log(0.5), std::log(2.0), std::log(1.5), std::log(1e-6)});
  const double a[2] = {0.1, 0.2}, b[2] = {0.4, 0.6};
  const double r = std::sqrt(0.4);
  CHECK(gp.kernel(a, b) == doctest::Approx(1.5 * (1 + std::sqrt(5.0) * r + 5 * r * r / 3) *
                                           std::exp(-std::sqrt(5.0) * r))
                               .epsilon(1e-14));
  CHECK(gp.kernel(a, a) == doctest::Approx(1.5));

  // A categorical input counts 1 / l^2 when the choices differ, whatever their indices.
  GpData mixed{.dims = 2, .x = {0.1, 0.0}, .y = {0.0}, .categorical = {0, 1}};
  GaussianProcess hamming(mixed, {std::log(0.5), std::log(2.0), 0.0, std::log(1e-6)});
  const double c1[2] = {0.1, 0.0}, c2[2] = {0.1, 1.0}, c3[2] = {0.1, 2.0};
  CHECK(hamming.kernel(c1, c2) == doctest::Approx(matern52(0.5)).epsilon(1e-14));
  CHECK(hamming.kernel(c1, c3) == doctest::Approx(matern52(0.5)).epsilon(1e-14));
}

TEST_CASE("cholesky factors a hand matrix, adds jitter when singular, refuses an indefinite one") {
  // The classic example: [[4, 12, -16], [12, 37, -43], [-16, -43, 98]] = L L^T with
  // L = [[2, 0, 0], [6, 1, 0], [-8, 5, 3]]. Column-major.
  std::vector<double> a = {4, 12, -16, 12, 37, -43, -16, -43, 98};
  CHECK(cholesky(a, 3) == 0);
  const double expected[3][3] = {{2, 0, 0}, {6, 1, 0}, {-8, 5, 3}};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j <= i; ++j) CHECK(a[j * 3 + i] == doctest::Approx(expected[i][j]));

  std::vector<double> singular = {1, 1, 1, 1};
  const double jitter = cholesky(singular, 2);
  CHECK(jitter > 0);
  CHECK(jitter < 1e-4);
  // L L^T = A + jitter I.
  const double l00 = singular[0], l10 = singular[1], l11 = singular[3];
  CHECK(l00 * l00 == doctest::Approx(1 + jitter).epsilon(1e-12));
  CHECK(l10 * l00 == doctest::Approx(1).epsilon(1e-12));
  CHECK(l10 * l10 + l11 * l11 == doctest::Approx(1 + jitter).epsilon(1e-12));

  std::vector<double> indefinite = {1, 2, 2, 1};
  CHECK_THROWS_AS(cholesky(indefinite, 2), nabla::ValueError);
}

TEST_CASE("the log marginal likelihood has its closed form and its gradient is exact") {
  // One observation: y ~ N(0, s2 + n2).
  GpData one{.dims = 1, .x = {0.3}, .y = {1.2}};
  const double s2 = 0.8, n2 = 0.05;
  CHECK(gp_log_marginal_likelihood(one, {std::log(0.4), std::log(s2), std::log(n2)}) ==
        doctest::Approx(-1.44 / (2 * (s2 + n2)) - 0.5 * std::log(2 * std::numbers::pi * (s2 + n2)))
            .epsilon(1e-13));

  // Against central differences, over inputs with a categorical one, at a few thetas.
  const GpData data = smooth_data(14, 3, 5, {0, 1, 0});
  Rng rng(11);
  for (int trial = 0; trial < 4; ++trial) {
    std::vector<double> theta = {std::log(0.2 + 0.5 * rng.uniform()), std::log(0.5 + rng.uniform()),
                                 std::log(0.1 + rng.uniform()), std::log(0.5 + rng.uniform()),
                                 std::log(1e-3 + 0.1 * rng.uniform())};
    std::vector<double> gradient, prior_gradient;
    gp_log_marginal_likelihood(data, theta, &gradient);
    gp_log_prior(3, theta, &prior_gradient);
    for (size_t k = 0; k < theta.size(); ++k) {
      const double h = 1e-5;
      std::vector<double> up = theta, down = theta;
      up[k] += h;
      down[k] -= h;
      const double fd =
          (gp_log_marginal_likelihood(data, up) - gp_log_marginal_likelihood(data, down)) / (2 * h);
      CHECK(gradient[k] == doctest::Approx(fd).epsilon(1e-6).scale(1));
      const double fd_prior = (gp_log_prior(3, up) - gp_log_prior(3, down)) / (2 * h);
      CHECK(prior_gradient[k] == doctest::Approx(fd_prior).epsilon(1e-7));
    }
  }
}

TEST_CASE("a fitted GP interpolates noiseless data, its variance is ~0 there and grows away") {
  const GpData data = smooth_data(15, 2, 3);
  Rng rng(4);
  const std::vector<double> theta = fit_gp_hyperparameters(data, rng);
  const GaussianProcess gp(data, theta);
  const double signal = std::exp(theta[2]);
  // A noiseless smooth function: the fit drives the noise towards its 1e-6 floor.
  CHECK(std::exp(theta[3]) < 1e-3);
  std::vector<double> mean, variance;
  gp.predict(data.x, mean, variance);
  for (size_t i = 0; i < data.y.size(); ++i) {
    CHECK(mean[i] == doctest::Approx(data.y[i]).scale(1).epsilon(2e-3));
    CHECK(variance[i] < 1e-3 * signal);
  }
  // Along a ray leaving the first observation, the variance grows; far away it is the prior's.
  std::vector<double> ray;
  for (double t : {0.0, 0.02, 0.05, 0.1}) {
    ray.push_back(data.x[0] + t);
    ray.push_back(data.x[1] - t);
  }
  gp.predict(ray, mean, variance);
  for (size_t i = 1; i < variance.size(); ++i) CHECK(variance[i] > variance[i - 1]);
  gp.predict({10.0, 10.0}, mean, variance);
  CHECK(variance[0] == doctest::Approx(signal).epsilon(1e-6));
  CHECK(mean[0] == doctest::Approx(0).scale(1));

  // The one-point posterior and its gradients agree with the batch and with central differences.
  const double point[2] = {0.37, 0.61};
  double m = 0, v = 0, dm[2], dv[2];
  gp.predict(point, m, v, dm, dv);
  gp.predict({0.37, 0.61}, mean, variance);
  CHECK(m == doctest::Approx(mean[0]).epsilon(1e-12));
  CHECK(v == doctest::Approx(variance[0]).epsilon(1e-9));
  for (int k = 0; k < 2; ++k) {
    const double h = 1e-6;
    double up[2] = {point[0], point[1]}, down[2] = {point[0], point[1]};
    up[k] += h;
    down[k] -= h;
    double mu = 0, vu = 0, md = 0, vd = 0, scratch[2];
    gp.predict(up, mu, vu, scratch, scratch);
    gp.predict(down, md, vd, scratch, scratch);
    CHECK(dm[k] == doctest::Approx((mu - md) / (2 * h)).epsilon(1e-5));
    CHECK(dv[k] == doctest::Approx((vu - vd) / (2 * h)).epsilon(1e-4).scale(1e-6));
  }
}

TEST_CASE("log EI and UCB against their closed forms, far into the tail too") {
  // EI = (m - best) Phi(z) + sd phi(z), z = (m - best) / sd.
  for (auto [m, sd, best] : {std::tuple{1.0, 2.0, 0.5},
                             {0.0, 1.0, 0.0},
                             {-1.0, 0.5, 0.2},
                             {3.0, 0.1, 1.0},
                             {-4.0, 1.0, 0.0}}) {
    const double z = (m - best) / sd;
    const double ei = (m - best) * normal_cdf(z) + sd * normal_pdf(z);
    CHECK(log_expected_improvement(m, sd, best) == doctest::Approx(std::log(ei)).epsilon(1e-11));
  }
  // z = -10 in long double: EI = 7.6e-25, where the double formula has lost every digit.
  {
    const long double z = -10, phi = std::exp(-0.5L * z * z) /
                                     std::sqrt(2 * std::numbers::pi_v<long double>);
    const long double ei = z * 0.5L * std::erfc(-z / std::sqrt(2.0L)) + phi;
    CHECK(log_expected_improvement(-10, 1, 0) ==
          doctest::Approx(static_cast<double>(std::log(ei))).epsilon(1e-9));
  }
  // z = -40, where EI = 1e-351 underflows: log h(z) = log phi(z) + log(1/z^2 - 3/z^4 + 15/z^6 ...).
  const double z = -40, s = 1 / (z * z);
  const double expected = -0.5 * z * z - 0.5 * std::log(2 * std::numbers::pi) + std::log(s) +
                          std::log(1 - 3 * s + 15 * s * s - 105 * s * s * s);
  CHECK(log_expected_improvement(-40, 1, 0) == doctest::Approx(expected).epsilon(1e-11));
  // The switches at z = -1 and z = -35 leave no step.
  CHECK(log_expected_improvement(-1 - 1e-9, 1, 0) ==
        doctest::Approx(log_expected_improvement(-1 + 1e-9, 1, 0)).epsilon(1e-8));
  CHECK(log_expected_improvement(-35 - 1e-9, 1, 0) ==
        doctest::Approx(log_expected_improvement(-35 + 1e-9, 1, 0)).epsilon(1e-9));
  // Its derivatives against central differences, from the body to the far tail.
  for (auto [m, sd] : {std::pair{0.3, 0.7}, {-3.0, 1.0}, {-20.0, 0.8}, {-60.0, 1.2}}) {
    double dm = 0, ds = 0;
    log_expected_improvement(m, sd, 0.1, &dm, &ds);
    const double h = 1e-6;
    CHECK(dm == doctest::Approx((log_expected_improvement(m + h, sd, 0.1) -
                                 log_expected_improvement(m - h, sd, 0.1)) /
                                (2 * h))
                    .epsilon(1e-6));
    CHECK(ds == doctest::Approx((log_expected_improvement(m, sd + h, 0.1) -
                                 log_expected_improvement(m, sd - h, 0.1)) /
                                (2 * h))
                    .epsilon(1e-6));
  }
  CHECK(upper_confidence_bound(0.5, 0.2, 4) == doctest::Approx(0.9));
  CHECK(upper_confidence_bound(-1, 3, 0) == -1);
}

TEST_CASE("box L-BFGS finds interior and bound minima") {
  // (x0 - 2)^2 + 10 (x1 - 0.3)^2 + (x2 + 1)^2 + x0 x2 on [0, 1]^3: x0 and x2 end on their bounds.
  auto f = [](const std::vector<double>& x, std::vector<double>& g) {
    g = {2 * (x[0] - 2) + x[2], 20 * (x[1] - 0.3), 2 * (x[2] + 1) + x[0]};
    return (x[0] - 2) * (x[0] - 2) + 10 * (x[1] - 0.3) * (x[1] - 0.3) + (x[2] + 1) * (x[2] + 1) +
           x[0] * x[2];
  };
  const auto box = minimize_box(f, {0.5, 0.9, 0.5}, {0, 0, 0}, {1, 1, 1});
  CHECK(box.x[0] == 1);
  CHECK(box.x[1] == doctest::Approx(0.3).epsilon(1e-8));
  CHECK(box.x[2] == 0);

  auto rosenbrock = [](const std::vector<double>& x, std::vector<double>& g) {
    g = {-400 * x[0] * (x[1] - x[0] * x[0]) - 2 * (1 - x[0]), 200 * (x[1] - x[0] * x[0])};
    return 100 * std::pow(x[1] - x[0] * x[0], 2) + std::pow(1 - x[0], 2);
  };
  const auto free =
      minimize_box(rosenbrock, {-1.2, 1}, {-5, -5}, {5, 5},
                   {.max_iterations = 200, .gradient_tolerance = 1e-10, .value_tolerance = 0});
  CHECK(free.x[0] == doctest::Approx(1).epsilon(1e-6));
  CHECK(free.x[1] == doctest::Approx(1).epsilon(1e-6));
  CHECK(free.value < 1e-12);
}

namespace {

// A finished trial of Hartmann-6 at a uniform point (parameters x0..x5 on [0, 1]).
TrialPtr hartmann_trial(int64_t number, Rng& rng) {
  auto t = std::make_shared<FrozenTrial>();
  t->id = t->number = number;
  t->state = TrialState::complete;
  std::vector<double> x;
  for (int k = 0; k < 6; ++k) {
    x.push_back(rng.uniform());
    const std::string name = coordinate_name(k);
    t->params[name] = x.back();
    t->distributions[name] = make_float("x", 0, 1, false, std::nullopt);
  }
  t->values = {hartmann6(x)};
  return t;
}

// Regrets after `trials` trials over seeds 0..seeds-1; `reached` (if given) gets, per seed, the
// number of trials the study took to come within 0.05 of the optimum (trials + 1 if never).
std::vector<double> run_regrets(const TestFunction& fn, int64_t trials, bool gp, int seeds = 10,
                                std::vector<double>* reached = nullptr) {
  std::vector<double> regrets;
  for (int seed = 0; seed < seeds; ++seed) {
    std::shared_ptr<Sampler> sampler;
    if (gp)
      sampler = std::make_shared<GpSampler>(GpOptions{.seed = static_cast<uint64_t>(seed)});
    else
      sampler = std::make_shared<RandomSampler>(static_cast<uint64_t>(seed));
    Study study = create_study({.sampler = sampler});
    study.optimize(objective_of(fn), {.n_trials = trials});
    regrets.push_back(regret(study, fn));
    if (reached) {
      double first = static_cast<double>(trials + 1);
      for (const auto& t : study.trials())
        if (t->value() - fn.optimum < 0.05) {
          first = static_cast<double>(t->number + 1);
          break;
        }
      reached->push_back(first);
    }
  }
  return regrets;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

TEST_CASE("time per GP suggestion at 10, 60 and 200 observations (reported, not asserted)") {
  InMemoryStorage storage;
  const std::vector<Direction> directions = {Direction::minimize};
  std::ostringstream table;
  for (int64_t n : {10, 60, 200}) {
    Rng rng(static_cast<uint64_t>(n));
    std::vector<TrialPtr> history;
    for (int64_t i = 0; i < n; ++i) history.push_back(hartmann_trial(i, rng));
    GpSampler sampler({.seed = 1});
    // The mean over a few suggestions (different trial numbers, so different random streams).
    const int repeats = n < 200 ? 5 : 2;
    double seconds = 0;
    for (int r = 0; r < repeats; ++r) {
      FrozenTrial next;
      next.number = n + r;
      const SamplerContext ctx{history, next, directions, 0, storage};
      const SearchSpace space = sampler.infer_relative_search_space(ctx);
      REQUIRE(space.size() == 6);
      const auto start = std::chrono::steady_clock::now();
      const auto point = sampler.sample_relative(ctx, space);
      seconds +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / repeats;
      REQUIRE(point.size() == 6);
      for (const auto& [param, x] : point) {
        CHECK(x >= 0);
        CHECK(x <= 1);
      }
    }
    table << "  " << n << " observations (Hartmann-6): " << seconds * 1e3 << " ms\n";
  }
  MESSAGE("GP time per suggestion\n" << table.str());
}

TEST_CASE("GP-BO beats random search on five functions at 50 trials, median over 10 seeds") {
  // Seeds 0..9, 50 trials each (10 random, then 40 GP); Branin's median regret below 0.05
  // within 50 trials (the aim: within 60).
  std::ostringstream table;
  table << "function     GP median regret   random median regret\n";
  std::vector<double> reached;
  for (const auto& fn : single_objective_functions()) {
    const double gp =
        median(run_regrets(fn, 50, true, 10, fn.name == "branin" ? &reached : nullptr));
    const double random = median(run_regrets(fn, 50, false));
    char line[96];
    std::snprintf(line, sizeof(line), "%-12s %-18.3g %.3g\n", fn.name.c_str(), gp, random);
    table << line;
    CHECK(gp < random);
    if (fn.name == "branin") CHECK(gp < 0.05);
  }
  table << "Branin: regret < 0.05 after a median of " << median(reached) << " trials\n";
  CHECK(median(reached) <= 60);
  MESSAGE(table.str());
}

TEST_CASE("a seeded GP study is the same every time, with threads too") {
  auto run = [](uint64_t seed, int n_jobs) {
    Study study = create_study(
        {.sampler = std::make_shared<GpSampler>(GpOptions{.seed = seed, .n_startup_trials = 5})});
    study.optimize(objective_of(single_objective_functions()[0]),
                   {.n_trials = 14, .n_jobs = n_jobs});
    std::vector<std::map<std::string, ParamValue>> params;
    for (const auto& t : study.trials()) params.push_back(t->params);
    return params;
  };
  const auto first = run(3, 1);
  CHECK(first == run(3, 1));
  CHECK(first != run(4, 1));
  CHECK(run(3, 2) == run(3, 2));

  // Maximizing -f is modelled exactly as minimizing f: the same points, trial for trial.
  Study maximize = create_study(
      {.directions = {Direction::maximize},
       .sampler = std::make_shared<GpSampler>(GpOptions{.seed = 3, .n_startup_trials = 5})});
  const Study::Objective branin_objective = objective_of(single_objective_functions()[0]);
  maximize.optimize([&](Trial& t) { return -branin_objective(t); }, {.n_trials = 14});
  std::vector<std::map<std::string, ParamValue>> maximized;
  for (const auto& t : maximize.trials()) maximized.push_back(t->params);
  CHECK(maximized == first);
}

TEST_CASE("GP-BO over log, int, stepped and categorical parameters finds the best region") {
  // Minimum at lr = 1e-3, width = 64, depth = 6, optimizer = "adam".
  auto objective = [](Trial& t) {
    const double lr = t.suggest_float("lr", 1e-5, 1e-1, {.log = true});
    const int64_t width = t.suggest_int("width", 8, 512, {.log = true});
    const int64_t depth = t.suggest_int("depth", 2, 12, {.step = 2});
    const std::string opt = t.suggest_categorical("optimizer", {"sgd", "adam", "rmsprop"});
    const double a = std::log10(lr) + 3, b = std::log2(static_cast<double>(width)) - 6;
    const double c = static_cast<double>(depth - 6) / 4;
    return a * a + b * b + c * c + (opt == "adam" ? 0.0 : 1.0);
  };
  Study study = create_study(
      {.sampler = std::make_shared<GpSampler>(GpOptions{.seed = 5, .n_startup_trials = 8})});
  study.optimize(objective, {.n_trials = 30});
  for (const auto& t : study.trials()) {
    CHECK(std::get<int64_t>(t->params.at("depth")) % 2 == 0);
    const int64_t width = std::get<int64_t>(t->params.at("width"));
    CHECK(width >= 8);
    CHECK(width <= 512);
  }
  CHECK(std::get<std::string>(study.best_params().at("optimizer")) == "adam");
  CHECK(study.best_value() < 0.3);
}

TEST_CASE("UCB also optimizes, the GP refuses a multi-objective study") {
  const TestFunction& branin_fn = single_objective_functions()[0];
  std::vector<double> regrets;
  for (uint64_t seed = 0; seed < 3; ++seed) {
    Study study = create_study({.sampler = std::make_shared<GpSampler>(
                                    GpOptions{.seed = seed, .acquisition = Acquisition::ucb})});
    study.optimize(objective_of(branin_fn), {.n_trials = 40});
    regrets.push_back(regret(study, branin_fn));
  }
  CHECK(median(regrets) < 0.1);

  Study multi = create_study({.directions = {Direction::minimize, Direction::minimize},
                              .sampler = std::make_shared<GpSampler>()});
  CHECK_THROWS_WITH_AS(multi.optimize(zdt_objective(3, false), {.n_trials = 1}),
                       doctest::Contains("models one objective, but the study has 2"),
                       nabla::ValueError);
  CHECK_THROWS_AS(GpSampler({.n_candidates = 0}), nabla::ValueError);
  CHECK_THROWS_AS(GpSampler({.ucb_beta = -1}), nabla::ValueError);
}

TEST_CASE("warm start: an earlier study's trials let the GP start at trial 0") {
  const TestFunction& branin_fn = single_objective_functions()[0];
  Study earlier = create_study({.sampler = std::make_shared<RandomSampler>(100)});
  earlier.optimize(objective_of(branin_fn), {.n_trials = 30});
  std::vector<double> warm, cold;
  for (uint64_t seed = 0; seed < 5; ++seed) {
    Study study = create_study({.sampler = std::make_shared<GpSampler>(
                                    GpOptions{.seed = seed, .prior_trials = earlier.trials()})});
    study.optimize(objective_of(branin_fn), {.n_trials = 8});
    warm.push_back(regret(study, branin_fn));
    Study fresh = create_study({.sampler = std::make_shared<GpSampler>(GpOptions{.seed = seed})});
    fresh.optimize(objective_of(branin_fn), {.n_trials = 8});
    cold.push_back(regret(fresh, branin_fn));
  }
  MESSAGE("Branin regret after 8 trials, median of 5 seeds: warm start "
          << median(warm) << ", cold " << median(cold));
  CHECK(median(warm) < 0.05);
  CHECK(median(warm) < median(cold));
}

TEST_CASE("the observation cap keeps the best half and the most recent, the GP still optimizes") {
  // The best 3 of 9 by utility (indices 1, 4, 6), then the 3 most recent of the others.
  CHECK(gp_observation_subset({1.0, 6.0, 0.5, 2.0, 5.0, 0.0, 4.0, 3.0, -1.0}, 6) ==
        std::vector<size_t>{1, 4, 5, 6, 7, 8});
  CHECK(gp_observation_subset({1.0, 2.0}, 5) == std::vector<size_t>{0, 1});
  CHECK_THROWS_AS(gp_observation_subset({1.0}, 1), nabla::ValueError);

  const TestFunction& branin_fn = single_objective_functions()[0];
  std::vector<double> capped;
  for (uint64_t seed = 0; seed < 3; ++seed) {
    Study study = create_study(
        {.sampler = std::make_shared<GpSampler>(GpOptions{.seed = seed, .max_observations = 25})});
    study.optimize(objective_of(branin_fn), {.n_trials = 35});
    capped.push_back(regret(study, branin_fn));
  }
  CHECK(median(capped) < 0.05);
}
