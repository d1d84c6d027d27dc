#include "objective.h"

#include <sstream>

#include "hpo/pruner.h"
#include "latency.h"
#include "search_space.h"

namespace nabla::hpo_cifar10 {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

std::vector<hpo::Direction> directions(Objectives objectives) {
  if (objectives == Objectives::accuracy) return {hpo::Direction::maximize};
  return {hpo::Direction::maximize, hpo::Direction::minimize, hpo::Direction::minimize};
}

TrainingObjective::TrainingObjective(TuningTask task, Objectives objectives)
    : task_(std::move(task)), objectives_(objectives) {
  NABLA_CHECK(task_.data.validation && !task_.data.test, ValueError,
              "a tuning task trains on a validation split and holds no test set");
}

std::vector<double> TrainingObjective::operator()(hpo::Trial& trial) {
  const train::TrainConfig config = suggest_training(trial, task_.base);
  // Several objectives have no single value to judge a run by before it ends: no pruning then.
  const bool reports = objectives_ == Objectives::accuracy;
  const Outcome outcome = train(config, reports ? &trial : nullptr);
  const bool pruned = outcome.result.stopped == "hook";
  record(trial, config, outcome, pruned);
  if (pruned) throw hpo::TrialPruned();
  return values(outcome);
}

std::vector<double> TrainingObjective::at_budget(hpo::Trial& trial, double budget) {
  train::TrainConfig config = suggest_training(trial, task_.base);
  config.epochs = std::max<int64_t>(1, std::llround(budget));
  const Outcome outcome = train(config, nullptr);
  record(trial, config, outcome, false);
  return values(outcome);
}

train::RunResult TrainingObjective::rerun(const hpo::FrozenTrial& trial) {
  const nlohmann::json& attrs = trial.user_attrs;
  NABLA_CHECK(attrs.contains("config") && attrs.contains("epochs_run"), ValueError, "trial ",
              trial.number, " has no training record to rerun (its state is ",
              hpo::name(trial.state), ")");
  const train::TrainConfig config = train::config_from_json(attrs.at("config"));
  const int64_t epochs_run = attrs.at("epochs_run").get<int64_t>();
  // A pruned run stopped before its schedule's end; the rerun stops at the same epoch.
  train::RunHooks hooks{.quiet = true};
  hooks.after_epoch = [epochs_run](const train::EpochSummary& s) { return s.epoch >= epochs_run; };
  train::Trainer trainer(config, attrs.at("config"), task_.data, hooks);
  trainer.run();
  return trainer.result();
}

TrainingObjective::Outcome TrainingObjective::train(const train::TrainConfig& config,
                                                    hpo::Trial* reporting_to) {
  train::RunHooks hooks{.quiet = true};
  if (reporting_to != nullptr)
    hooks.after_epoch = [reporting_to](const train::EpochSummary& s) {
      reporting_to->report(s.epoch, s.validation->accuracy());
      return reporting_to->should_prune();
    };
  train::Trainer trainer(config, train::config_record(config), task_.data, hooks);
  const int exit_code = trainer.run();
  Outcome outcome{.result = trainer.result(), .parameters = trainer.model().num_parameters()};
  {
    std::lock_guard lock(mutex_);
    epochs_trained_ += double(outcome.result.epochs);
  }
  NABLA_CHECK(exit_code == 0, ValueError, "the training loss diverged after ", outcome.result.steps,
              " steps");
  if (objectives_ == Objectives::accuracy_latency_parameters)
    outcome.latency_ms = latency_ms(config, trainer.model());
  return outcome;
}

double TrainingObjective::latency_ms(const train::TrainConfig& config, nn::Module& model) {
  // Latency depends on the architecture, not on the weights: timing each architecture once makes
  // equal networks tie, where timing noise would otherwise rank them and put copies on the front.
  std::ostringstream key;
  key << config.model << " width " << config.width << " depth " << config.depth << " on "
      << config.device;
  {
    std::lock_guard lock(mutex_);
    if (auto it = latency_by_architecture_.find(key.str()); it != latency_by_architecture_.end())
      return it->second;
  }
  const Device device = config.device == "cuda" ? Device::cuda() : Device::cpu();
  const int64_t channels = task_.data.channels, size = task_.data.image_size;
  const double ms = inference_latency_ms(model, {1, channels, size, size}, device);
  std::lock_guard lock(mutex_);
  return latency_by_architecture_.emplace(key.str(), ms).first->second;
}

std::vector<double> TrainingObjective::values(const Outcome& outcome) const {
  const double accuracy = *outcome.result.validation_accuracy;
  if (objectives_ == Objectives::accuracy) return {accuracy};
  return {accuracy, outcome.latency_ms, double(outcome.parameters)};
}

void TrainingObjective::record(hpo::Trial& trial, const train::TrainConfig& config,
                               const Outcome& outcome, bool pruned) {
  // Everything a rerun needs and everything it should reproduce.
  trial.set_user_attr("config", train::config_record(config));
  trial.set_user_attr("seed", config.seed);
  trial.set_user_attr("code_version", task_.code_version);
  trial.set_user_attr("epochs_run", outcome.result.epochs);
  trial.set_user_attr("val_accuracy", *outcome.result.validation_accuracy);
  trial.set_user_attr("weights_checksum", outcome.result.weights_checksum);
  trial.set_user_attr("train_seconds", outcome.result.seconds);
  trial.set_user_attr("parameters", outcome.parameters);
  if (objectives_ == Objectives::accuracy_latency_parameters)
    trial.set_user_attr("latency_ms", outcome.latency_ms);
  std::lock_guard lock(mutex_);
  evaluations_.push_back({.trial = trial.number(),
                          .epochs = outcome.result.epochs,
                          .accuracy = *outcome.result.validation_accuracy,
                          .epochs_so_far = epochs_trained_,
                          .seconds_so_far = seconds_since(start_),
                          .pruned = pruned});
}

std::vector<Evaluation> TrainingObjective::evaluations() const {
  std::lock_guard lock(mutex_);
  return evaluations_;
}

double TrainingObjective::epochs_trained() const {
  std::lock_guard lock(mutex_);
  return epochs_trained_;
}

}  // namespace nabla::hpo_cifar10
