// One training run: the model, optimizer, schedule and data a TrainConfig describes, the epoch
// loop, evaluation, and the checkpoints that let a killed run continue exactly where it was.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "config.h"
#include "datasets.h"
#include "metrics_log.h"
#include "nabla.h"

namespace nabla::train {

// Loss and accuracy summed over the images seen so far.
struct Totals {
  double loss = 0;
  int64_t correct = 0;
  int64_t seen = 0;

  double mean_loss() const { return seen ? loss / double(seen) : 0; }
  double accuracy() const { return seen ? 100.0 * double(correct) / double(seen) : 0; }
  void add(const Tensor& logits, const Tensor& targets, double mean_loss);
};

// One finished epoch, as a program that embeds the trainer sees it. The test set is evaluated only
// when the run has one: a tuning run holds out a validation split and no test set.
struct EpochSummary {
  int64_t epoch = 0;  // counting from 1
  Totals train{};
  std::optional<Totals> validation{}, test{};
  double seconds = 0;  // the epoch's training time
};

// How a program that embeds the trainer (examples/hpo_cifar10) hears of a run and cuts it short.
struct RunHooks {
  bool quiet = false;  // no progress bar and no summary lines
  // The test set is evaluated after the last epoch only: a final model's one test, with no
  // figure along the way to tempt a choice.
  bool test_at_end_only = false;
  // After each epoch's evaluations; returning true ends the run there (a pruned trial).
  std::function<bool(const EpochSummary&)> after_epoch{};
};

// How a run ended and its final figures.
struct RunResult {
  std::string stopped{};  // completed, early_stopping, hook, diverged
  int64_t epochs = 0;
  int64_t steps = 0;
  double seconds = 0;
  std::optional<double> validation_accuracy{}, test_accuracy{};  // of the final weights
  std::string weights_checksum{};  // FNV-1a of the final weights: equal runs, equal digests
};

// The exit codes besides 0: a command-line or setup error, and a run that diverged.
inline constexpr int kExitUsage = 2;
inline constexpr int kExitDiverged = 3;

class Trainer {
 public:
  // `config_record`: the flags as config_json gives them, logged first and checked on resume.
  Trainer(const TrainConfig& config, nlohmann::json config_record, RunHooks hooks = {});
  // With data already loaded (load_training_data), for programs that run many trainings on it.
  Trainer(const TrainConfig& config, nlohmann::json config_record, TrainingData data,
          RunHooks hooks = {});
  // Trains for the configured epochs (or evaluates, with --eval-only); returns the exit code.
  int run();
  const RunResult& result() const { return result_; }
  nn::Module& model() { return *model_; }
  // The predicted class of each of the dataset's examples, in order, by the current weights.
  std::vector<int64_t> predictions(const std::shared_ptr<const data::Dataset>& dataset);
  const TrainingData& data() const { return data_; }
  // Loads the weights a checkpoint reports its accuracy with: the best epoch's under early
  // stopping, else the averages under --ema, else the last ones. Returns which they were.
  std::string load_reported_weights(const std::string& path);

 private:
  struct Position {
    int64_t epoch = 0;   // the epoch under way, counting from 0
    int64_t batch = 0;   // its batches done
    int64_t step = 0;    // optimizer steps done in all
    double seconds = 0;  // training time before this process
  };
  enum class EpochEnd { completed, diverged };
  // What end_epoch decided: train on, or why the run stops.
  enum class Verdict { train_on, early_stopping, hook };

  void build_schedule();
  void apply_init();
  // --whiten: FastNet's stem becomes a fixed whitening of the training images' patches.
  void whiten();
  void resume(const std::string& path);
  void save_checkpoint() const;
  EpochEnd train_epoch();
  Totals evaluate(const std::shared_ptr<const data::Dataset>& dataset);
  // Calls `visit(batch, logits)` on the dataset's batches in order, in eval mode and with no
  // graph; the model's mode is restored after.
  void for_each_prediction(const std::shared_ptr<const data::Dataset>& dataset,
                           const std::function<void(const data::Batch&, const Tensor&)>& visit);
  // A loader's batch [N, C, H, W] in [0, 1], on the device and normalized per channel.
  Tensor normalized(const Tensor& images) const;
  // Logits of normalized inputs, averaged with the mirror images' under --tta.
  Tensor predict(const Tensor& inputs);
  // After an epoch: evaluations, the schedule, early stopping, the summary line and record, and
  // the checkpoint. `images`: those this process trained on.
  Verdict end_epoch(const Totals& train, double epoch_seconds, int64_t images);
  int finish(const std::string& stopped);
  // --eval-only: the test accuracy of the --resume file's weights.
  int evaluate_only();
  double elapsed() const;
  std::string describe_run() const;

  TrainConfig config_;
  nlohmann::json config_record_;
  RunHooks hooks_;
  RunResult result_;
  Device device_;
  TrainingData data_;
  Tensor mean_, inverse_std_;  // [1, C, 1, 1] on the device
  std::shared_ptr<nn::Module> model_;
  std::unique_ptr<optim::Optimizer> optimizer_;
  std::unique_ptr<optim::Schedule> schedule_;
  std::optional<data::DataLoader> loader_;
  std::unique_ptr<optim::ExponentialMovingAverage> ema_;
  std::unique_ptr<optim::EarlyStopping> early_stopping_;
  MetricsLog log_;
  Position position_;
  Totals epoch_totals_;  // of the epoch under way, carried across a resume
  int64_t steps_per_epoch_ = 0;
  std::optional<double> last_test_accuracy_, last_validation_accuracy_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace nabla::train
