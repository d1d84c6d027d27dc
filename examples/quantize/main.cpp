// nabla-quantize: quantizes a nabla-train checkpoint to int8 (post-training with calibration,
// dynamic, or quantization-aware fine-tuning), or its Linear weights alone to int4 or int8
// (weight-only), and prints the quantization report: per-layer SQNR,
// size, latency at batch 1 and 128, and the test accuracy of both models.
//   nabla-quantize --checkpoint cnn.safetensors --method ptq --observer histogram --out cnn.int8
//   nabla-quantize --checkpoint cnn.safetensors --method qat --qat-epochs 2 --accuracy-budget 1
//   nabla-quantize --checkpoint mlp.safetensors --method weight-only --weight-bits 4
// The run's settings (dataset, model, normalization) come from the checkpoint, through the
// trainer library, as nabla-train --eval-only reads them.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>

#include "config.h"
#include "qat_finetune.h"
#include "quant/int8_dispatch.h"
#include "trainer.h"

using namespace nabla;

namespace {

struct Options {
  std::string checkpoint;
  std::optional<std::string> dataset, data_dir;
  std::string method = "ptq";
  std::string observer;  // empty: the method's default (histogram; QAT: moving_average)
  bool per_tensor = false;
  int64_t calibration_batches = 16;
  std::optional<double> accuracy_budget;
  std::string out;
  int threads = 0;
  int64_t test_images = 0;  // 0: the checkpoint run's test set
  int64_t batch_size = 128;
  int64_t latency_runs = 7;
  int64_t sensitivity_batches = 8;
  quantize::QatOptions qat;
  int weight_bits = 4;  // weight-only
  int64_t group_size = 32;
  bool quiet = false;
};

const std::map<std::string, quant::ObserverKind> kObservers = {
    {"minmax", quant::ObserverKind::min_max},
    {"moving_average", quant::ObserverKind::moving_average_min_max},
    {"histogram", quant::ObserverKind::histogram},
    {"percentile", quant::ObserverKind::percentile}};

void add_flags(CLI::App& app, Options& o) {
  app.add_option("--checkpoint", o.checkpoint, "a nabla-train checkpoint (.safetensors)")
      ->required();
  app.add_option("--dataset", o.dataset,
                 "the checkpoint's dataset (checked; the default is the checkpoint's own)");
  app.add_option("--data", o.data_dir, "where the dataset is (default: the usual search)");
  app.add_option("--method", o.method,
                 "ptq (calibrated static int8), dynamic, qat, or weight-only (Linear weights in "
                 "int4 or int8, float arithmetic)")
      ->check(CLI::IsMember({"ptq", "dynamic", "qat", "weight-only"}));
  app.add_option("--weight-bits", o.weight_bits, "weight-only: 4 (packed) or 8")
      ->check(CLI::IsMember({4, 8}));
  app.add_option("--group-size", o.group_size,
                 "weight-only: input features per weight scale (0: one per output row)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--observer", o.observer,
                 "activation observer: minmax, moving_average, histogram (ptq default) or "
                 "percentile (qat default: moving_average)")
      ->check(CLI::IsMember({"minmax", "moving_average", "histogram", "percentile"}));
  app.add_flag("--per-tensor", o.per_tensor,
               "one weight scale per layer instead of one per output channel");
  app.add_option("--calibration-batches", o.calibration_batches,
                 "training batches the observers see (ptq)")
      ->check(CLI::PositiveNumber);
  app.add_option("--accuracy-budget", o.accuracy_budget,
                 "sensitivity mode: keep the most sensitive layers float until int8 is within "
                 "this many points of float (ptq, qat)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--sensitivity-batches", o.sensitivity_batches,
                 "training batches the sensitivity mode scores on, when the run has no validation "
                 "split")
      ->check(CLI::PositiveNumber);
  app.add_option("--out", o.out, "save the int8 model here (load with quant::load_quantized)");
  app.add_option("--threads", o.threads, "threads for everything, timing included (0: all)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--test-images", o.test_images, "evaluate on the first N test images (0: all)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--batch-size", o.batch_size, "calibration, evaluation and QAT batch size")
      ->check(CLI::PositiveNumber);
  app.add_option("--latency-runs", o.latency_runs, "timed runs per latency median")
      ->check(CLI::PositiveNumber);
  app.add_option("--qat-epochs", o.qat.epochs, "QAT fine-tuning epochs")
      ->check(CLI::PositiveNumber);
  app.add_option("--qat-steps", o.qat.steps_per_epoch,
                 "QAT steps per epoch (0: the whole training set)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--optimizer", o.qat.optimizer, "QAT optimizer, by registry name");
  app.add_option("--opt", o.qat.optimizer_options, "QAT optimizer option key=value (repeatable)");
  app.add_option("--lr", o.qat.lr, "QAT learning rate")->check(CLI::PositiveNumber);
  app.add_option("--freeze-observers-epoch", o.qat.observer_freeze_epoch,
                 "QAT: freeze the observers from this epoch on (counting from 0)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--freeze-bn-epoch", o.qat.bn_freeze_epoch,
                 "QAT: freeze the batch-norm statistics from this epoch on (counting from 0)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--quiet", o.quiet, "no progress lines");
}

// The checkpoint's run, rebuilt for evaluation as nabla-train --eval-only would.
struct Run {
  nlohmann::json record;
  train::TrainConfig config;
};

Run read_run(const Options& o) {
  NABLA_CHECK(std::filesystem::is_regular_file(o.checkpoint), IOError, "--checkpoint: '",
              o.checkpoint, "' is not a file");
  const nn::Checkpoint checkpoint = nn::load_checkpoint(o.checkpoint);
  NABLA_CHECK(checkpoint.state.contains("config"), IOError, "--checkpoint: '", o.checkpoint,
              "' is not a nabla-train checkpoint: it records no run settings");
  Run run{.record = checkpoint.state.at("config"), .config = {}};
  run.config = train::config_from_json(run.record);
  NABLA_CHECK(!o.dataset || *o.dataset == run.config.dataset, ValueError, "--dataset: '",
              o.checkpoint, "' was trained on ", run.config.dataset, ", not ", *o.dataset);
  if (o.data_dir) run.config.data_dir = *o.data_dir;
  if (o.test_images > 0) run.config.test_images = o.test_images;
  run.config.threads = o.threads;
  run.config.device = "cpu";  // the int8 kernels are CPU kernels
  run.config.eval_only = true;
  run.config.resume = o.checkpoint;
  train::validate(run.config);
  return run;
}

quant::QuantConfig quant_config(const Options& o, quant::ObserverKind default_observer) {
  quant::QuantConfig config;
  config.activation_observer = o.observer.empty() ? default_observer : kObservers.at(o.observer);
  if (o.per_tensor) config.weight.scheme.channel_axis = std::nullopt;
  return config;
}

quant::WeightOnlyOptions weight_only(const Options& o) {
  return {.dtype = o.weight_bits == 4 ? quant::QDType::int4 : quant::QDType::int8,
          .group_size = o.group_size};
}

// An untrained model of the run's architecture.
std::shared_ptr<nn::Module> fresh_model(const train::TrainConfig& config,
                                        const train::TrainingData& data) {
  auto model = nn::models::create(config.model, {.num_classes = int64_t(data.classes.size()),
                                                 .in_channels = data.channels,
                                                 .image_size = data.image_size,
                                                 .width = config.width,
                                                 .dropout = config.dropout,
                                                 .depth = config.depth});
  model->eval();
  return model;
}

// What load_quantized loads into: an int8 model of the same structure from an untrained model,
// so that the reloaded model's accuracy shows the file alone carries the quantized weights.
std::shared_ptr<nn::Module> skeleton(const Options& o, const train::TrainConfig& config,
                                     const train::TrainingData& data, const Tensor& example,
                                     const quant::ConvertOptions& convert_options) {
  auto model = fresh_model(config, data);
  if (o.method == "dynamic") return quant::quantize_dynamic(*model);
  if (o.method == "weight-only") return quant::quantize_weight_only(*model, weight_only(o));
  quant::prepare(*model, quant::QuantConfig{}, example);
  quant::calibrate(
      *model, [&]() -> std::optional<Tensor> { return example; }, 1);
  return quant::convert(*model, convert_options);
}

std::string percent(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f%%", x);
  return text;
}

int quantize_checkpoint(const Options& o) {
  const Run run = read_run(o);
  train::Trainer trainer(run.config, run.record, {.quiet = true});
  const std::string weights = trainer.load_reported_weights(o.checkpoint);
  const train::TrainingData& data = trainer.data();
  NABLA_CHECK(data.test, ValueError, "--checkpoint: '", o.checkpoint, "': its run has no test set");
  nn::Module& float_model = trainer.model();
  float_model.eval();

  // The normalization the model was trained with: the run's training images' statistics.
  const Shape channel_shape = {1, int64_t(data.mean.size()), 1, 1};
  std::vector<float> inverse_std;
  for (float s : data.std) inverse_std.push_back(1.0f / s);
  const Tensor mean = from_vector(data.mean, channel_shape);
  const Tensor inv_std = from_vector(inverse_std, channel_shape);
  const quant::Preprocess preprocess = [&](const Tensor& x) { return (x - mean) * inv_std; };

  // Calibration batches from the training images (never the test set), in a fixed shuffle.
  data::DataLoader calibration(
      data.train,
      data::LoaderOptions{
          .batch_size = o.batch_size, .shuffle = true, .num_workers = 0, .seed = run.config.seed});
  const Tensor calibration_batch = preprocess(calibration.begin()->inputs);
  const Tensor example = slice(calibration_batch, 0, 0, 2);
  data::DataLoader test(data.test, data::LoaderOptions{.batch_size = o.batch_size});
  auto accuracy = [&](nn::Module& m) { return quant::top1_accuracy(m, test, preprocess); };

  // The model to quantize: a copy, so that the float model stays as trained.
  std::shared_ptr<nn::Module> copy = fresh_model(run.config, data);
  copy->load_state_dict(float_model.state_dict());
  copy->eval();

  if (!o.quiet) {
    std::printf("%s: %s on %s (weights: %s), method %s, %d threads\n", o.checkpoint.c_str(),
                run.config.model.c_str(), run.config.dataset.c_str(), weights.c_str(),
                o.method.c_str(), get_num_threads());
    // Static int8 models take 7-bit activations (QuantConfig's reduce_range), for which the
    // automatic choice is the kernel that runs.
    if (o.method == "ptq" || o.method == "qat")
      std::printf("int8 kernel: %s\n", quant::name(quant::choose_int8_kernel(
                                           quant::Int8Kernel::automatic, "nabla-quantize")));
  }
  std::shared_ptr<nn::Module> int8;
  std::set<std::string> float_layers;
  std::optional<double> float_accuracy;
  quant::ConvertOptions convert_options{.skip = {}, .per_tensor_weights = o.per_tensor};
  if (o.method == "dynamic" || o.method == "weight-only") {
    NABLA_CHECK(!o.accuracy_budget, ValueError,
                "--accuracy-budget: the sensitivity mode needs --method ptq or qat");
    int8 = o.method == "dynamic" ? quant::quantize_dynamic(*copy)
                                 : quant::quantize_weight_only(*copy, weight_only(o));
  } else {
    if (o.method == "ptq") {
      quant::prepare(*copy, quant_config(o, quant::ObserverKind::histogram), example);
      const int64_t ran = quant::calibrate(*copy, calibration, o.calibration_batches, preprocess);
      if (!o.quiet) std::printf("calibrated on %lld batches\n", static_cast<long long>(ran));
    } else {
      quant::prepare_qat(
          *copy, {.quant = quant_config(o, quant::ObserverKind::moving_average_min_max)}, example);
      quantize::QatOptions qat = o.qat;
      qat.batch_size = o.batch_size;
      qat.workers = run.config.workers;
      qat.seed = run.config.seed;
      quantize::qat_finetune(*copy, data, preprocess, example, qat, o.quiet);
    }
    if (o.accuracy_budget) {
      // The search chooses on held-out images, never the test set that the report then scores:
      // the run's validation split, else the first training images (without augmentation).
      const bool validation = data.validation != nullptr;
      data::DataLoader held_out(validation ? data.validation : data.train,
                                data::LoaderOptions{.batch_size = o.batch_size});
      const int64_t batches = validation ? 0 : o.sensitivity_batches;
      auto choice_accuracy = [&](nn::Module& m) {
        return quant::top1_accuracy(m, held_out, preprocess, batches);
      };
      float_accuracy = choice_accuracy(float_model);
      const quant::Sensitivity s =
          quant::sensitivity_search(*copy, *float_accuracy, *o.accuracy_budget, choice_accuracy);
      std::printf("sensitivity on %s (float %s; all int8 %s; with one layer float):\n",
                  validation ? "the validation split" : "training images",
                  percent(*float_accuracy).c_str(), percent(s.int8_accuracy).c_str());
      for (const auto& [name, acc] : s.ranking)
        std::printf("  %s: %s\n", name.c_str(), percent(acc).c_str());
      std::printf("kept float: %zu layer(s) (%s) for a budget of %.2f points\n",
                  s.kept_float.size(), percent(s.accuracy).c_str(), *o.accuracy_budget);
      float_layers = s.kept_float;
    }
    convert_options.skip = float_layers;
    int8 = quant::convert(*copy, convert_options);
  }

  quant::QuantReport report =
      quant::make_report(float_model, *int8, test, preprocess, calibration_batch,
                         {.warmup_runs = 2, .timed_runs = o.latency_runs});
  report.float_layers = float_layers;
  std::cout << "\n" << report.to_markdown() << "\n";
  if (!o.out.empty()) {
    quant::save_quantized(*int8, o.out);
    std::printf("saved the int8 model to %s\n", o.out.c_str());
    auto reloaded = skeleton(o, run.config, data, example, convert_options);
    quant::load_quantized(*reloaded, o.out);
    const double reloaded_accuracy = accuracy(*reloaded);
    std::printf("reloaded %s: int8 test accuracy %s (%s)\n", o.out.c_str(),
                percent(reloaded_accuracy).c_str(),
                reloaded_accuracy == report.int8_accuracy ? "the same" : "DIFFERENT");
    if (reloaded_accuracy != report.int8_accuracy) return 1;  // a bug, not a usage error
  }
  std::printf("int8 test accuracy: %s (float %s)\n", percent(report.int8_accuracy).c_str(),
              percent(report.float_accuracy).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"nabla-quantize: int8 quantization of a nabla-train checkpoint, with a report"};
  add_flags(app, options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "nabla-quantize: " << e.what() << " (see --help)\n";
    return train::kExitUsage;
  }
  try {
    return quantize_checkpoint(options);
  } catch (const std::exception& e) {
    std::cerr << "nabla-quantize: " << e.what() << "\n";
    return train::kExitUsage;
  }
}
