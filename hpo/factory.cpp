// The sampler and pruner tables behind make_sampler and make_pruner.
#include "hpo/factory.h"

#include <functional>
#include <map>

#include "core/error.h"
#include "hpo/pruners/hyperband.h"
#include "hpo/pruners/percentile.h"
#include "hpo/pruners/successive_halving.h"
#include "hpo/pruners/threshold.h"
#include "hpo/samplers/cmaes.h"
#include "hpo/samplers/genetic.h"
#include "hpo/samplers/gp.h"
#include "hpo/samplers/grid.h"
#include "hpo/samplers/nsga2.h"
#include "hpo/samplers/random.h"
#include "hpo/samplers/regularized_evolution.h"
#include "hpo/samplers/reinforce.h"
#include "hpo/samplers/sobol.h"
#include "hpo/samplers/tpe.h"

namespace nabla::hpo {

namespace {

using SamplerMaker =
    std::function<std::shared_ptr<Sampler>(const nlohmann::json&, std::optional<uint64_t>)>;
using PrunerMaker = std::function<std::shared_ptr<Pruner>(const nlohmann::json&)>;

// Reads the options a maker knows and refuses any other, so a typo is never silently ignored.
class OptionReader {
 public:
  OptionReader(std::string owner, const nlohmann::json& options)
      : owner_(std::move(owner)), options_(options.is_null() ? nlohmann::json::object() : options) {
    NABLA_CHECK(options_.is_object(), ValueError, owner_, ": options must be a JSON object, got ",
                options_.dump());
  }
  template <class T>
  T get(const std::string& key, T fallback) {
    known_.push_back(key);
    if (!options_.contains(key)) return fallback;
    try {
      return options_[key].get<T>();
    } catch (const nlohmann::json::exception&) {
      throw ValueError(owner_ + ": option '" + key +
                       "' has the wrong type: " + options_[key].dump());
    }
  }
  void finish() const {
    for (const auto& [key, value] : options_.items()) {
      bool found = false;
      for (const auto& k : known_) found = found || k == key;
      if (found) continue;
      std::string list;
      for (const auto& k : known_) list += (list.empty() ? "" : ", ") + k;
      throw ValueError(owner_ + ": unknown option '" + key + "'" +
                       (list.empty() ? " (it takes none)" : "; known: " + list));
    }
  }

 private:
  std::string owner_;
  nlohmann::json options_;
  std::vector<std::string> known_;
};

VariationOptions read_variation(OptionReader& r) {
  VariationOptions v;
  v.crossover_prob = r.get("crossover_prob", v.crossover_prob);
  v.sbx_eta = r.get("sbx_eta", v.sbx_eta);
  if (double p = r.get("mutation_prob", 0.0); p > 0) v.mutation_prob = p;
  v.mutation_sigma = r.get("mutation_sigma", v.mutation_sigma);
  return v;
}

const std::map<std::string, SamplerMaker>& samplers() {
  static const std::map<std::string, SamplerMaker> table = {
      {"cmaes",
       [](const nlohmann::json& options, std::optional<uint64_t> seed) {
         OptionReader r("sampler cmaes", options);
         CmaEsOptions o{.seed = seed};
         o.sigma0 = r.get("sigma0", o.sigma0);
         if (int64_t lambda = r.get("popsize", int64_t{0}); lambda > 0) o.popsize = lambda;
         o.restarts = r.get("restarts", o.restarts);
         o.inc_popsize = r.get("inc_popsize", o.inc_popsize);
         o.tol_x = r.get("tol_x", o.tol_x);
         o.tol_fun = r.get("tol_fun", o.tol_fun);
         r.finish();
         return std::make_shared<CmaEsSampler>(o);
       }},
      {"genetic",
       [](const nlohmann::json& options, std::optional<uint64_t> seed) {
         OptionReader r("sampler genetic", options);
         GeneticOptions o{.seed = seed};
         o.population_size = r.get("population_size", o.population_size);
         o.tournament_size = r.get("tournament_size", o.tournament_size);
         o.elitism = r.get("elitism", o.elitism);
         o.variation = read_variation(r);
         r.finish();
         return std::make_shared<GeneticSampler>(o);
       }},
      {"gp",
       [](const nlohmann::json& options, std::optional<uint64_t> seed) {
         OptionReader r("sampler gp", options);
         GpOptions o{.seed = seed};
         o.n_startup_trials = r.get("n_startup_trials", o.n_startup_trials);
         const std::string acquisition = r.get("acquisition", std::string("ei"));
         NABLA_CHECK(acquisition == "ei" || acquisition == "ucb", ValueError,
                     "sampler gp: acquisition is 'ei' or 'ucb', got '", acquisition, "'");
         o.acquisition = acquisition == "ei" ? Acquisition::ei : Acquisition::ucb;
         o.ucb_beta = r.get("ucb_beta", o.ucb_beta);
         o.n_candidates = r.get("n_candidates", o.n_candidates);
         o.n_local_searches = r.get("n_local_searches", o.n_local_searches);
         o.n_fit_restarts = r.get("n_fit_restarts", o.n_fit_restarts);
         o.max_observations = r.get("max_observations", o.max_observations);
         r.finish();
         return std::make_shared<GpSampler>(o);
       }},
      {"grid",
       [](const nlohmann::json& options, std::optional<uint64_t> seed) {
         OptionReader r("sampler grid", options);
         const auto grid = r.get("grid", nlohmann::json::object());
         r.finish();
         NABLA_CHECK(grid.is_object() && !grid.empty(), ValueError,
                     "sampler grid: needs the option grid = {\"name\": [values...], ...}");
         std::map<std::string, std::vector<ParamValue>> points;
         for (const auto& [param, values] : grid.items()) {
           NABLA_CHECK(values.is_array(), ValueError, "sampler grid: '", param,
                       "' needs a list of values, got ", values.dump());
           for (const auto& v : values) points[param].push_back(param_value_from_json(v));
         }
         return std::make_shared<GridSampler>(std::move(points), seed);
       }},
      {"nsga2",
       [](const nlohmann::json& options, std::optional<uint64_t> seed) {
         OptionReader r("sampler nsga2", options);
         Nsga2Options o{.seed = seed};
         o.population_size = r.get("population_size", o.population_size);
         o.variation = read_variation(r);
         r.finish();
         return std::make_shared<Nsga2Sampler>(o);
       }},
      {"random",
       [](const nlohmann::json& options, std::optional<uint64_t> seed) {
         OptionReader("sampler random", options).finish();
         return std::make_shared<RandomSampler>(seed);
       }},
      {"regularized_evolution",
       [](const nlohmann::json& options, std::optional<uint64_t> seed) {
         OptionReader r("sampler regularized_evolution", options);
         RegularizedEvolutionOptions o{.seed = seed};
         o.population_size = r.get("population_size", o.population_size);
         o.sample_size = r.get("sample_size", o.sample_size);
         r.finish();
         return std::make_shared<RegularizedEvolutionSampler>(o);
       }},
      {"reinforce",
       [](const nlohmann::json& options, std::optional<uint64_t> seed) {
         OptionReader r("sampler reinforce", options);
         ReinforceOptions o{.seed = seed};
         o.learning_rate = r.get("learning_rate", o.learning_rate);
         o.baseline_decay = r.get("baseline_decay", o.baseline_decay);
         o.max_choices = r.get("max_choices", o.max_choices);
         r.finish();
         return std::make_shared<ReinforceSampler>(o);
       }},
      {"sobol",
       [](const nlohmann::json& options, std::optional<uint64_t> seed) {
         OptionReader r("sampler sobol", options);
         SobolOptions o{.seed = seed};
         o.scramble = r.get("scramble", o.scramble);
         r.finish();
         return std::make_shared<SobolSampler>(o);
       }},
      {"tpe",
       [](const nlohmann::json& options, std::optional<uint64_t> seed) {
         OptionReader r("sampler tpe", options);
         TpeOptions o;
         o.n_startup_trials = r.get("n_startup_trials", o.n_startup_trials);
         o.n_ei_candidates = r.get("n_ei_candidates", o.n_ei_candidates);
         if (double f = r.get("gamma_fraction", 0.0); f > 0) o.gamma = fixed_fraction_gamma(f);
         o.prior_weight = r.get("prior_weight", o.prior_weight);
         o.consider_prior = r.get("consider_prior", o.consider_prior);
         o.consider_magic_clip = r.get("consider_magic_clip", o.consider_magic_clip);
         o.consider_endpoints = r.get("consider_endpoints", o.consider_endpoints);
         o.multivariate = r.get("multivariate", o.multivariate);
         r.finish();
         return std::make_shared<TpeSampler>(o, seed);
       }},
  };
  return table;
}

// The options the median and percentile pruners share.
template <class Options>
Options read_peer_options(OptionReader& r, Options o) {
  o.n_startup_trials = r.get("n_startup_trials", o.n_startup_trials);
  o.n_warmup_steps = r.get("n_warmup_steps", o.n_warmup_steps);
  o.interval_steps = r.get("interval_steps", o.interval_steps);
  o.n_min_trials = r.get("n_min_trials", o.n_min_trials);
  return o;
}

const std::map<std::string, PrunerMaker>& pruners() {
  static const std::map<std::string, PrunerMaker> table = {
      {"hyperband",
       [](const nlohmann::json& options) {
         OptionReader r("pruner hyperband", options);
         HyperbandPrunerOptions o;
         o.min_resource = r.get("min_resource", o.min_resource);
         o.max_resource = r.get("max_resource", o.max_resource);
         o.reduction_factor = r.get("reduction_factor", o.reduction_factor);
         r.finish();
         return std::make_shared<HyperbandPruner>(o);
       }},
      {"median",
       [](const nlohmann::json& options) {
         OptionReader r("pruner median", options);
         auto o = read_peer_options(r, MedianPrunerOptions{});
         r.finish();
         return std::make_shared<MedianPruner>(o);
       }},
      {"percentile",
       [](const nlohmann::json& options) {
         OptionReader r("pruner percentile", options);
         auto o = read_peer_options(r, PercentilePrunerOptions{});
         o.percentile = r.get("percentile", o.percentile);
         r.finish();
         return std::make_shared<PercentilePruner>(o);
       }},
      {"successive_halving",
       [](const nlohmann::json& options) {
         OptionReader r("pruner successive_halving", options);
         SuccessiveHalvingPrunerOptions o;
         o.min_resource = r.get("min_resource", o.min_resource);
         o.reduction_factor = r.get("reduction_factor", o.reduction_factor);
         o.min_early_stopping_rate = r.get("min_early_stopping_rate", o.min_early_stopping_rate);
         if (int64_t max = r.get("max_resource", int64_t{0}); max > 0) o.max_resource = max;
         r.finish();
         return std::make_shared<SuccessiveHalvingPruner>(o);
       }},
      {"threshold",
       [](const nlohmann::json& options) {
         OptionReader r("pruner threshold", options);
         ThresholdPrunerOptions o;
         o.lower = r.get("lower", o.lower);
         o.upper = r.get("upper", o.upper);
         o.n_warmup_steps = r.get("n_warmup_steps", o.n_warmup_steps);
         o.interval_steps = r.get("interval_steps", o.interval_steps);
         r.finish();
         return std::make_shared<ThresholdPruner>(o);
       }},
      {"none",
       [](const nlohmann::json& options) {
         OptionReader("pruner none", options).finish();
         return std::make_shared<NopPruner>();
       }},
  };
  return table;
}

template <class Table>
std::string names_of(const Table& table) {
  std::string list;
  for (const auto& [name, maker] : table) list += (list.empty() ? "" : ", ") + name;
  return list;
}

}  // namespace

std::shared_ptr<Sampler> make_sampler(const std::string& name, const nlohmann::json& options,
                                      std::optional<uint64_t> seed) {
  auto it = samplers().find(name);
  NABLA_CHECK(it != samplers().end(), ValueError, "make_sampler: unknown sampler '", name,
              "'; known: ", names_of(samplers()));
  return it->second(options, seed);
}

std::shared_ptr<Pruner> make_pruner(const std::string& name, const nlohmann::json& options) {
  auto it = pruners().find(name);
  NABLA_CHECK(it != pruners().end(), ValueError, "make_pruner: unknown pruner '", name,
              "'; known: ", names_of(pruners()));
  return it->second(options);
}

std::vector<std::string> sampler_names() {
  std::vector<std::string> names;
  for (const auto& [name, maker] : samplers()) names.push_back(name);
  return names;
}

std::vector<std::string> pruner_names() {
  std::vector<std::string> names;
  for (const auto& [name, maker] : pruners()) names.push_back(name);
  return names;
}

}  // namespace nabla::hpo
