// nabla's side of bench/hpo_vs_optuna.py: one sampler on one test function (tests/hpo/functions.h)
// for a budget of trials and several seeds, in any storage; prints a JSON line per seed with the
// best value reached and the study's time per trial (sampling, bookkeeping and storage; the
// functions cost nothing).
//   bench_hpo --function branin --sampler tpe --trials 1000 --seeds 0,1,2 [--opt multivariate=true]
//   bench_hpo --sampler random --trials 1000 --storage sqlite:///bench.db
#include <chrono>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "functions.h"
#include "hpo/factory.h"
#include "hpo/storages.h"
#include "hpo/study.h"

using namespace nabla;

int main(int argc, char** argv) {
  std::string function = "branin", sampler = "tpe", seeds_text = "0";
  std::vector<std::string> option_pairs;
  std::string storage_url = "memory";
  int64_t trials = 100;
  CLI::App app{"bench_hpo: one sampler, one test function, a budget, several seeds"};
  app.add_option("--function", function, "branin, hartmann6, rosenbrock, ackley or levy");
  app.add_option("--sampler", sampler, "a sampler name (hpo/factory.h)");
  app.add_option("--trials", trials, "trials per study");
  app.add_option("--seeds", seeds_text, "comma-separated seeds");
  app.add_option("--opt", option_pairs, "a sampler option, key=value (the value read as JSON)");
  app.add_option("--storage", storage_url,
                 "a storage URL (hpo/storages.h); each run is a new study");
  CLI11_PARSE(app, argc, argv);

  const hpo::testing::TestFunction* fn = nullptr;
  for (const auto& f : hpo::testing::single_objective_functions())
    if (f.name == function) fn = &f;
  if (!fn) {
    std::cerr << "bench_hpo: unknown function '" << function << "'\n";
    return 2;
  }
  nlohmann::json options = nlohmann::json::object();
  for (const auto& pair : option_pairs) {
    const auto eq = pair.find('=');
    if (eq == std::string::npos) {
      std::cerr << "bench_hpo: --opt wants key=value, got '" << pair << "'\n";
      return 2;
    }
    options[pair.substr(0, eq)] = nlohmann::json::parse(pair.substr(eq + 1));
  }
  std::stringstream seeds(seeds_text);
  for (std::string seed; std::getline(seeds, seed, ',');) {
    hpo::Study study =
        hpo::create_study({.storage = hpo::open_storage(storage_url),
                           .sampler = hpo::make_sampler(sampler, options, std::stoull(seed))});
    const auto start = std::chrono::steady_clock::now();
    study.optimize(hpo::testing::objective_of(*fn), {.n_trials = trials});
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << nlohmann::json{{"function", function},
                                {"sampler", sampler},
                                {"seed", std::stoull(seed)},
                                {"trials", trials},
                                {"storage", storage_url},
                                {"best", study.best_value()},
                                {"regret", study.best_value() - fn->optimum},
                                {"seconds_per_trial", seconds / static_cast<double>(trials)}}
                     .dump()
              << std::endl;
  }
  return 0;
}
