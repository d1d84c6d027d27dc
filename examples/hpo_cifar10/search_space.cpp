#include "search_space.h"

#include <iomanip>
#include <sstream>
#include <string>

namespace nabla::hpo_cifar10 {

namespace {

// An optimizer option for --opt, its value in full so that the run uses the suggested number.
std::string option(const std::string& key, double value) {
  std::ostringstream os;
  os << key << "=" << std::setprecision(17) << value;
  return os.str();
}

}  // namespace

train::TrainConfig suggest_training(hpo::Trial& trial, const train::TrainConfig& base) {
  train::TrainConfig config = base;
  config.optimizer = trial.suggest_categorical("optimizer", {"sgd", "adamw"});
  // A parameter's name carries the optimizer it belongs to: SGD's good learning rates are two
  // orders of magnitude above AdamW's, and one range for both would waste most draws.
  if (config.optimizer == "sgd") {
    config.lr = trial.suggest_float("lr_sgd", 0.005, 0.5, {.log = true});
    const double momentum = trial.suggest_float("momentum", 0.5, 0.99);
    config.optimizer_options = {option("momentum", momentum), "nesterov=true"};
  } else {
    config.lr = trial.suggest_float("lr_adamw", 1e-4, 1e-2, {.log = true});
    const double beta1 = trial.suggest_float("beta1", 0.8, 0.95);
    const double beta2 = trial.suggest_float("beta2", 0.95, 0.9999, {.log = true});
    config.optimizer_options = {option("beta1", beta1), option("beta2", beta2)};
  }
  config.weight_decay = trial.suggest_float("weight_decay", 1e-5, 1e-2, {.log = true});
  config.batch_size = trial.suggest_categorical("batch_size", {64, 128, 256});
  config.label_smoothing = trial.suggest_float("label_smoothing", 0.0, 0.2);
  config.dropout = trial.suggest_float("dropout", 0.0, 0.5);
  config.width = trial.suggest_float("width", 0.5, 1.5, {.step = 0.25});
  config.depth = trial.suggest_int("depth", 1, 2);
  return config;
}

}  // namespace nabla::hpo_cifar10
