// The in-process objective that connects a study to nabla's training loop: a trial's suggestions
// become a training run on the tuning data, its validation accuracy each epoch goes to the study,
// and the study's pruner (or a scheduler's budget) decides how long it trains.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "config.h"
#include "datasets.h"
#include "hpo/trial.h"
#include "trainer.h"

namespace nabla::hpo_cifar10 {

// What a study tunes on: the settings every trial starts from and the data it trains and
// validates on. The data holds a validation split carved from the training images and no test
// set, so that no tuning decision ever sees a test image.
struct TuningTask {
  train::TrainConfig base{};
  train::TrainingData data{};
  std::string code_version{};  // the git commit the program was built from, when known
};

// What a trial's values are: the validation accuracy alone, or also the inference latency (ms
// per image at batch 1, on the run's device and threads) and the parameter count.
enum class Objectives { accuracy, accuracy_latency_parameters };

// One training run of a trial, in the order the runs finished.
struct Evaluation {
  int64_t trial = 0;
  int64_t epochs = 0;
  double accuracy = 0;        // validation, in percent
  double epochs_so_far = 0;   // the study's training epochs, this run's included
  double seconds_so_far = 0;  // the study's wall time
  bool pruned = false;
};

class TrainingObjective {
 public:
  TrainingObjective(TuningTask task, Objectives objectives);

  // For Study::optimize: trains base.epochs epochs, reporting the validation accuracy after each
  // (step = epoch) and stopping with hpo::TrialPruned when the study's pruner says so.
  std::vector<double> operator()(hpo::Trial& trial);
  // For the schedulers (successive halving, Hyperband, BOHB): a run of `budget` epochs from
  // scratch, its schedule fitted to that length; the scheduler reports it.
  std::vector<double> at_budget(hpo::Trial& trial, double budget);

  // Reruns a finished trial from its record (its "config" user attribute) and returns the run's
  // result; the weights' checksum says whether it reproduced the original bit for bit.
  train::RunResult rerun(const hpo::FrozenTrial& trial);

  std::vector<Evaluation> evaluations() const;
  double epochs_trained() const;
  const TuningTask& task() const { return task_; }
  Objectives objectives() const { return objectives_; }

 private:
  struct Outcome {
    train::RunResult result{};
    double latency_ms = 0;
    int64_t parameters = 0;
  };
  Outcome train(const train::TrainConfig& config, hpo::Trial* reporting_to);
  // The inference latency of the config's architecture, measured the first time it is seen.
  double latency_ms(const train::TrainConfig& config, nn::Module& model);
  std::vector<double> values(const Outcome& outcome) const;
  void record(hpo::Trial& trial, const train::TrainConfig& config, const Outcome& outcome,
              bool pruned);

  TuningTask task_;
  Objectives objectives_;
  mutable std::mutex mutex_;
  std::vector<Evaluation> evaluations_;
  double epochs_trained_ = 0;
  std::map<std::string, double> latency_by_architecture_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// The values the study's directions need, for an objective list.
std::vector<hpo::Direction> directions(Objectives objectives);

}  // namespace nabla::hpo_cifar10
