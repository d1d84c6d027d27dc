// nabla-train's settings: every command-line flag, and the JSON config file whose keys are the
// flag names ({"model": "resnet20", "opt": ["momentum=0.9"], "epochs": 30}).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nabla::train {

struct TrainConfig {
  // Data
  std::string dataset = "cifar10";
  std::string data_dir;
  int64_t train_images = 0;  // 0: all of them
  int64_t test_images = 0;   // 0: all of them
  double validation = 0;     // the fraction of the training images held out
  bool augment = false;
  // Model
  std::string model = "cnn";
  double width = 1.0;
  int64_t depth = 0;  // 0: the model's own
  double dropout = 0;
  std::string init = "default";
  bool whiten = false;
  // Optimization
  std::string optimizer = "sgd";
  std::vector<std::string> optimizer_options;  // key=value
  double lr = 0.05;
  double weight_decay = 5e-4;
  std::string schedule = "cosine";
  std::vector<std::string> schedule_options;  // key=value
  double warmup_epochs = 1;
  int64_t epochs = 10;
  int64_t batch_size = 128;
  double label_smoothing = 0.1;
  double clip_norm = 0;        // 0: no clipping
  int64_t early_stopping = 0;  // patience in epochs; 0: off
  double ema = 0;              // decay of the weight average; 0: off
  bool tta = false;
  // Running
  uint64_t seed = 0;
  int threads = 0;  // 0: every core
  int64_t workers = 2;
  std::string device = "cpu";
  std::string checkpoint;
  int64_t checkpoint_steps = 0;  // 0: at the end of each epoch only
  std::string resume;
  bool eval_only = false;
  std::string log;
  int64_t inject_nan = 0;  // 0: never
};

// Registers every flag on `app`, bound to `config`, and --config FILE (JSON), whose values the
// command line overrides.
void add_flags(CLI::App& app, TrainConfig& config);
// A ValueError for values no run can use, naming the flag.
void validate(const TrainConfig& config);
// Every flag's value after parsing, keyed by flag name: a log's first record, and a valid
// --config file that repeats the run.
nlohmann::json config_json(const CLI::App& app);

// `config` as config_json would record the command line that gave it.
nlohmann::json config_record(const TrainConfig& config);
// The settings a config_json record (a log's first record, a checkpoint's) describes.
TrainConfig config_from_json(const nlohmann::json& record);

// "key=value" entries (--opt, --sched-opt) split at the first '='; `flag` names them in errors.
std::vector<std::pair<std::string, std::string>> key_values(const std::vector<std::string>& entries,
                                                            const std::string& flag);

}  // namespace nabla::train
