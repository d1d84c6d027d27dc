// hpo_cifar10: tunes CIFAR-10 training runs (optimizer, learning rate, weight decay, momentum or
// betas, batch size, label smoothing, dropout, width, depth) on a validation split carved from
// the training images, then retrains the best configuration on the whole training set and tests
// it once.
//   hpo_cifar10 --quick --method tpe --out runs/tpe            a few minutes on 2 cores
//   hpo_cifar10 --quick --method hyperband --retrain
//   hpo_cifar10 --quick --objectives accuracy,latency,parameters --method nsga2
//   hpo_cifar10 --storage sqlite:///runs/tpe/study.db --rerun 3
// objective.h connects a trial to the trainer, tuning.h runs the methods, report.h writes results.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "hpo/storages.h"
#include "report.h"
#include "trainer.h"
#include "tuning.h"

using namespace nabla;
namespace fs = std::filesystem;

namespace {

struct Flags {
  bool quick = false;
  train::TrainConfig base;
  std::string objectives = "accuracy";
  hpo_cifar10::TuningOptions tuning;
  uint64_t split_seed = 0;
  std::string out;
  bool retrain = false;
  int64_t retrain_epochs = 0;   // 0: --epochs
  int64_t retrain_images = -1;  // -1: --train-images; 0: all
  int64_t rerun = -1;
};

// The commit this program was built from, "-dirty" with uncommitted changes, or "unknown"
// outside a git checkout.
std::string code_version() {
  const std::string git = std::string("git -C '") + NABLA_SOURCE_DIR + "' ";
  auto output = [](const std::string& command) {
    std::string text;
    if (FILE* pipe = ::popen((command + " 2>/dev/null").c_str(), "r")) {
      char buffer[256];
      while (std::fgets(buffer, sizeof buffer, pipe)) text += buffer;
      ::pclose(pipe);
    }
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
  };
  const std::string hash = output(git + "rev-parse --short=12 HEAD");
  if (hash.empty()) return "unknown";
  return output(git + "status --porcelain --untracked-files=no").empty() ? hash : hash + "-dirty";
}

void add_flags(CLI::App& app, Flags& f) {
  train::TrainConfig& b = f.base;
  b.validation = 0.25;
  app.add_flag("--quick", f.quick,
               "the quick task: 2,000 CIFAR-10 training images, the small CNN, runs of up to 3 "
               "epochs, 81 epochs in all");
  app.add_option("--dataset", b.dataset, "cifar10, cifar100, fashion-mnist or imagefolder");
  app.add_option("--data", b.data_dir, "dataset folder (else $NABLA_DATA, ./data, ../shared/data)");
  app.add_option("--model", b.model, "the network tuned: cnn, resnet20, resnet18 or mlp");
  app.add_option("--train-images", b.train_images, "tune on the first N training images (0: all)");
  app.add_option("--validation", b.validation,
                 "the fraction of them held out to validate on (never the test set)");
  app.add_option("--split-seed", f.split_seed, "the seed of the validation split");
  app.add_option("--objectives", f.objectives, "accuracy, or accuracy,latency,parameters");
  app.add_option("--method", f.tuning.method,
                 "random, tpe, gp, cmaes, asha, hyperband, bohb; nsga2 or tpe with several "
                 "objectives");
  app.add_option("--epochs", f.tuning.epochs, "the longest training run, in epochs");
  app.add_option("--budget", f.tuning.budget,
                 "the training epochs the study may spend in all (0: none, to --retrain the best "
                 "of a finished study)");
  app.add_option("--eta", f.tuning.eta, "successive halving's reduction factor");
  app.add_option("--population", f.tuning.population, "NSGA-II's population per generation");
  app.add_option("--seed", f.tuning.seed, "the sampler's and the training runs' seed");
  app.add_option("--threads", b.threads, "compute threads (0: every core)");
  app.add_option("--storage", f.tuning.storage,
                 "the study's storage URL (default: sqlite:///OUT/study.db with --out, else in "
                 "memory)");
  app.add_option("--study", f.tuning.study_name, "the study's name (default: METHOD-seed-SEED)");
  app.add_option("--out", f.out, "a folder for the study, its evaluations, summary and plots");
  app.add_option("--warm-start-from", f.tuning.warm_start_study,
                 "a finished study to warm-start from (TPE learns from its trials; other "
                 "methods run its best three configurations first)");
  app.add_option("--warm-start-storage", f.tuning.warm_start_storage,
                 "the storage URL of that study (default: --storage)");
  app.add_flag("--retrain", f.retrain,
               "retrain the best configuration and the default one on the whole training set and "
               "test each once");
  app.add_option("--retrain-epochs", f.retrain_epochs, "epochs of those runs (0: --epochs)");
  app.add_option("--retrain-images", f.retrain_images,
                 "the training images of those runs (default: --train-images; 0: all)");
  app.add_option("--rerun", f.rerun,
                 "rerun trial N of the --storage study from its record and check that it "
                 "reproduces");
}

void apply_quick(const CLI::App& app, Flags& f) {
  if (!f.quick) return;
  auto unless_given = [&app](const char* flag, auto& value, auto quick_value) {
    if (app.count(flag) == 0) value = quick_value;
  };
  unless_given("--train-images", f.base.train_images, int64_t{2000});
  unless_given("--epochs", f.tuning.epochs, int64_t{3});
  unless_given("--budget", f.tuning.budget, 81.0);
  unless_given("--threads", f.base.threads, 2);
}

// The settings every trial starts from: nabla-train's defaults for the model, with augmentation
// on the CIFAR sets, a short warmup and a cosine decay.
train::TrainConfig base_config(const Flags& f) {
  train::TrainConfig c = f.base;
  c.augment = c.dataset == "cifar10" || c.dataset == "cifar100";
  c.epochs = f.tuning.epochs;
  c.warmup_epochs = 0.5;
  c.seed = f.tuning.seed;
  return c;
}

hpo_cifar10::TuningTask tuning_task(const Flags& f) {
  train::TrainConfig split = base_config(f);
  split.seed = f.split_seed;
  train::TrainingData data = train::load_training_data(split);
  data.test = nullptr;  // tuning never sees it
  return {.base = base_config(f), .data = std::move(data), .code_version = code_version()};
}

// A run on the whole training set (the validation split included) that is tested once, at its
// end.
double test_accuracy(train::TrainConfig config, int64_t epochs, int64_t images,
                     const std::string& label) {
  config.validation = 0;
  config.epochs = epochs;
  config.train_images = images;
  train::Trainer trainer(config, train::config_record(config),
                         {.quiet = true, .test_at_end_only = true});
  trainer.run();
  const double accuracy = *trainer.result().test_accuracy;
  std::printf("%s: test accuracy %.2f%% (%ld epochs on %ld images, %.0fs)\n", label.c_str(),
              accuracy, long(epochs), long(trainer.data().train->size()), trainer.result().seconds);
  return accuracy;
}

int rerun(const Flags& f, hpo_cifar10::TrainingObjective& objective) {
  NABLA_CHECK(!f.tuning.storage.empty() && !f.tuning.study_name.empty(), ValueError,
              "--rerun needs the --storage and --study that hold the trial");
  hpo::Study study = hpo::load_study(
      {.name = f.tuning.study_name, .storage = hpo::open_storage(f.tuning.storage)});
  const std::vector<hpo::TrialPtr> trials = study.trials();
  NABLA_CHECK(f.rerun >= 0 && f.rerun < int64_t(trials.size()), ValueError, "--rerun: the study ",
              f.tuning.study_name, " has trials 0 to ", int64_t(trials.size()) - 1, ", not ",
              f.rerun);
  const hpo::FrozenTrial& trial = *trials[size_t(f.rerun)];
  const train::RunResult result = objective.rerun(trial);
  const nlohmann::json& recorded = trial.user_attrs;
  const bool same = result.weights_checksum == recorded.at("weights_checksum").get<std::string>();
  std::printf(
      "trial %ld (recorded by %s): validation accuracy %.2f%% recorded, %.2f%% rerun; weights "
      "%s recorded, %s rerun: %s\n",
      long(trial.number), recorded.value("code_version", "unknown").c_str(),
      recorded.at("val_accuracy").get<double>(), *result.validation_accuracy,
      recorded.at("weights_checksum").get<std::string>().c_str(), result.weights_checksum.c_str(),
      same ? "reproduced" : "NOT reproduced");
  return same ? 0 : 1;
}

int run(Flags& f) {
  hpo_cifar10::Objectives objectives;
  if (f.objectives == "accuracy")
    objectives = hpo_cifar10::Objectives::accuracy;
  else if (f.objectives == "accuracy,latency,parameters")
    objectives = hpo_cifar10::Objectives::accuracy_latency_parameters;
  else
    NABLA_CHECK(false, ValueError, "--objectives: '", f.objectives,
                "' is not accuracy or accuracy,latency,parameters");
  const std::vector<std::string> methods = {"random", "tpe",       "gp",   "cmaes",
                                            "nsga2",  "hyperband", "bohb", "asha"};
  NABLA_CHECK(std::find(methods.begin(), methods.end(), f.tuning.method) != methods.end(),
              ValueError, "--method: unknown method '", f.tuning.method,
              "'; known: random, tpe, gp, cmaes, nsga2, asha, hyperband, bohb");
  if (f.tuning.study_name.empty())
    f.tuning.study_name = f.tuning.method + "-seed-" + std::to_string(f.tuning.seed);
  if (!f.out.empty()) {
    fs::create_directories(f.out);
    if (f.tuning.storage.empty()) f.tuning.storage = "sqlite:///" + f.out + "/study.db";
  }
  hpo_cifar10::TrainingObjective objective(tuning_task(f), objectives);
  std::cout << objective.task().data.summary << "\n";
  if (f.rerun >= 0) return rerun(f, objective);

  std::cout << "tuning " << f.base.model << " with " << f.tuning.method << " (seed "
            << f.tuning.seed << "): runs of up to " << f.tuning.epochs << " epochs, "
            << f.tuning.budget << " epochs in all, on " << objective.task().data.train->size()
            << " training and " << objective.task().data.validation->size() << " validation images"
            << std::endl;
  hpo_cifar10::TuningResult result = hpo_cifar10::tune(objective, f.tuning);
  const std::string method =
      f.tuning.warm_start_study.empty() ? f.tuning.method : f.tuning.method + "+warm";
  const hpo_cifar10::RunLabel label{method, f.tuning.seed};
  const std::string summary =
      hpo_cifar10::summary_markdown(result.study, label, result.epochs_spent);
  std::cout << summary;
  if (!f.out.empty()) {
    hpo_cifar10::write_evaluations(f.out + "/evaluations.jsonl", label, objective.evaluations());
    hpo_cifar10::write_trials_json(f.out + "/trials.json", result.study);
    std::ofstream(f.out + "/summary.md") << summary;
  }
  if (f.retrain) {
    NABLA_CHECK(objectives == hpo_cifar10::Objectives::accuracy, ValueError,
                "--retrain: with several objectives there is no one best configuration");
    const int64_t epochs = f.retrain_epochs > 0 ? f.retrain_epochs : f.tuning.epochs;
    const train::TrainConfig best =
        train::config_from_json(result.study.best_trial()->user_attrs.at("config"));
    const int64_t images = f.retrain_images >= 0 ? f.retrain_images : f.base.train_images;
    const double tuned = test_accuracy(best, epochs, images, "tuned configuration");
    const double hand_set = test_accuracy(base_config(f), epochs, images, "default configuration");
    std::printf("tuned - default: %+.2f points\n", tuned - hand_set);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App app{"hpo_cifar10: tune CIFAR-10 training runs on a validation split"};
  add_flags(app, flags);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "hpo_cifar10: " << e.what() << " (see --help)\n";
    return 2;
  }
  apply_quick(app, flags);
  try {
    return run(flags);
  } catch (const Error& e) {
    std::cerr << "hpo_cifar10: " << e.what() << "\n";
    return 2;
  }
}
