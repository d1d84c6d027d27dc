// One tuning study of CIFAR-10 training runs: the method (a sampler, a pruner or a scheduler), the
// compute budget it may spend, and where its study lives.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "hpo/study.h"
#include "objective.h"

namespace nabla::hpo_cifar10 {

struct TuningOptions {
  // random, tpe, gp, cmaes: whole runs of `epochs`; asha: those cut short by successive
  // halving's pruner; hyperband, bohb: their schedulers, with budgets of 1 to `epochs` epochs.
  // nsga2 (and tpe) also serve several objectives.
  std::string method = "tpe";
  int64_t epochs = 9;      // the longest run, in epochs
  double budget = 81;      // the training epochs the study may spend, in all
  int64_t eta = 3;         // successive halving's reduction factor
  int64_t population = 8;  // NSGA-II's population: a few generations fit a small budget
  uint64_t seed = 0;
  std::string storage{};  // a URL (sqlite:///study.db); empty: in memory
  std::string study_name{};
  // A finished study whose trials warm-start this one: TPE learns from them as prior
  // observations; other methods run the source's best configurations first.
  std::string warm_start_study{};
  std::string warm_start_storage{};  // empty: `storage`
};

struct TuningResult {
  hpo::Study study;
  double epochs_spent = 0;
};

// Runs `options.method` until it has spent the budget (a run under way is finished); with a
// budget of 0, only opens the study.
TuningResult tune(TrainingObjective& objective, const TuningOptions& options);

}  // namespace nabla::hpo_cifar10
