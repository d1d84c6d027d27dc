#include "tuning.h"

#include <cmath>

#include "hpo/factory.h"
#include "hpo/pruners/successive_halving.h"
#include "hpo/samplers/tpe.h"
#include "hpo/schedulers/bohb.h"
#include "hpo/schedulers/hyperband.h"
#include "hpo/storages.h"
#include "hpo/warm_start.h"

namespace nabla::hpo_cifar10 {

namespace {

bool is_scheduler(const std::string& method) { return method == "hyperband" || method == "bohb"; }

std::vector<hpo::TrialPtr> source_trials(const TuningOptions& o) {
  const std::string& url = o.warm_start_storage.empty() ? o.storage : o.warm_start_storage;
  NABLA_CHECK(!url.empty(), ValueError,
              "--warm-start-from needs the storage that holds that study (--storage or "
              "--warm-start-storage)");
  hpo::Study source =
      hpo::load_study({.name = o.warm_start_study, .storage = hpo::open_storage(url)});
  return source.trials();
}

std::shared_ptr<hpo::Sampler> make_sampler(const TuningOptions& o,
                                           const std::vector<hpo::TrialPtr>& prior) {
  // The schedulers and ASHA sample configurations at random, as Hyperband's paper does; BOHB's
  // model proposes most of them.
  const std::string name =
      is_scheduler(o.method) || o.method == "asha" ? std::string("random") : o.method;
  if (name == "tpe" && !prior.empty()) {
    hpo::TpeOptions tpe;
    tpe.prior_trials.trials = prior;
    return std::make_shared<hpo::TpeSampler>(tpe, o.seed);
  }
  nlohmann::json options = nlohmann::json::object();
  if (name == "nsga2") options["population_size"] = o.population;
  return hpo::make_sampler(name, options, o.seed);
}

}  // namespace

TuningResult tune(TrainingObjective& objective, const TuningOptions& o) {
  NABLA_CHECK(o.epochs >= 1 && (o.budget == 0 || o.budget >= double(o.epochs)), ValueError,
              "the budget (", o.budget, " epochs) must allow one run of ", o.epochs,
              " epochs, or be 0 to use a finished study");
  std::vector<hpo::TrialPtr> prior;
  if (!o.warm_start_study.empty()) {
    for (const hpo::TrialPtr& t : source_trials(o))
      if (t->state == hpo::TrialState::complete || t->state == hpo::TrialState::pruned)
        prior.push_back(t);
  }
  hpo::StudyOptions study_options{
      .name = o.study_name,
      .storage = o.storage.empty() ? nullptr : hpo::open_storage(o.storage),
      .directions = directions(objective.objectives()),
      .sampler = make_sampler(o, prior),
      .load_if_exists = true};
  if (o.method == "asha")
    study_options.pruner =
        std::make_shared<hpo::SuccessiveHalvingPruner>(hpo::SuccessiveHalvingPrunerOptions{
            .min_resource = 1, .reduction_factor = o.eta, .max_resource = o.epochs});
  hpo::Study study = hpo::create_study(study_options);
  if (!prior.empty() && o.method != "tpe") hpo::enqueue_best(study, prior, 3);

  if (o.budget == 0) return {.study = std::move(study), .epochs_spent = 0};
  const double spent_before = objective.epochs_trained();
  auto spent = [&] { return objective.epochs_trained() - spent_before; };
  if (is_scheduler(o.method)) {
    // Whole passes over the brackets while the budget lasts; a pass costs the same every time.
    const hpo::HyperbandOptions hyperband{
        .min_budget = 1, .max_budget = double(o.epochs), .eta = o.eta, .n_iterations = 1};
    const hpo::BudgetMultiObjective at_budget = [&](hpo::Trial& trial, double budget) {
      return objective.at_budget(trial, budget);
    };
    double pass = 0;
    for (const hpo::BracketPlan& bracket : hpo::hyperband_plan(hyperband))
      for (size_t i = 0; i < bracket.sizes.size(); ++i)
        pass += double(bracket.sizes[i]) * std::max(1.0, std::round(bracket.budgets[i]));
    NABLA_CHECK(pass <= o.budget + 1e-9, ValueError, "one pass of ", o.method, "'s brackets takes ",
                pass, " epochs, more than the budget of ", o.budget);
    while (spent() + pass <= o.budget + 1e-9) {
      if (o.method == "bohb")
        hpo::bohb(study, at_budget, {.hyperband = hyperband, .seed = o.seed});
      else
        hpo::hyperband(study, at_budget, hyperband);
    }
  } else {
    // A run stops the study once the budget is spent; whole runs fit it exactly.
    const hpo::Callback stop_when_spent = [&](hpo::Study& s, const hpo::FrozenTrial&) {
      if (spent() + 1e-9 >= o.budget) s.stop();
    };
    const hpo::Study::MultiObjective run = [&](hpo::Trial& trial) { return objective(trial); };
    study.optimize(run, {.callbacks = {stop_when_spent}});
  }
  return {.study = std::move(study), .epochs_spent = spent()};
}

}  // namespace nabla::hpo_cifar10
