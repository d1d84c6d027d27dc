// nabla-compare: evaluates two nabla-train checkpoints on the same test set and says whether one
// is better, with paired bootstrap confidence intervals and McNemar's test (hpo/significance.h).
//   nabla-compare a.safetensors b.safetensors [--test-images N] [--json figures.json]
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>

#include "config.h"
#include "hpo/significance.h"
#include "trainer.h"

using namespace nabla;

namespace {

struct Options {
  std::string a, b;
  std::optional<std::string> data_dir, device;
  std::optional<int64_t> test_images;
  int threads = 0;
  hpo::BootstrapOptions bootstrap;
  double alpha = 0.05;
  std::string json;
};

// One checkpoint's model, evaluated.
struct Evaluated {
  std::string path{};
  train::TrainConfig config{};
  std::string weights{};  // which of the checkpoint's weights: load_reported_weights says
  std::vector<int64_t> labels{}, predictions{};
};

std::vector<int64_t> test_labels(const data::Dataset& test) {
  std::vector<int64_t> indices(size_t(test.size()));
  for (int64_t i = 0; i < test.size(); ++i) indices[size_t(i)] = i;
  const Tensor targets = contiguous(test.get_batch(indices).targets);
  const int64_t* p = targets.data<int64_t>();
  return {p, p + targets.numel()};
}

// A checkpoint's run settings, with this program's overrides: evaluation only, of its weights.
struct Run {
  std::string path{};
  nlohmann::json record{};
  train::TrainConfig config{};
};

Run read_run(const std::string& path, const Options& options) {
  const nn::Checkpoint checkpoint = nn::load_checkpoint(path);
  NABLA_CHECK(checkpoint.state.contains("config"), IOError, "'", path,
              "' is not a nabla-train checkpoint: it records no run settings");
  Run run{.path = path, .record = checkpoint.state.at("config")};
  run.config = train::config_from_json(run.record);
  if (options.data_dir) run.config.data_dir = *options.data_dir;
  if (options.test_images) run.config.test_images = *options.test_images;
  if (options.device) run.config.device = *options.device;
  run.config.threads = options.threads;
  run.config.eval_only = true;
  run.config.resume = path;
  train::validate(run.config);
  return run;
}

// The run rebuilt without an optimizer, on its own data (its normalization comes from its own
// training images), with the weights its accuracy was reported with.
Evaluated evaluate(const Run& run) {
  train::Trainer trainer(run.config, run.record, {.quiet = true});
  NABLA_CHECK(trainer.data().test, ValueError, "'", run.path, "': its run has no test set");
  Evaluated out{.path = run.path, .config = run.config};
  out.weights = trainer.load_reported_weights(run.path);
  out.labels = test_labels(*trainer.data().test);
  out.predictions = trainer.predictions(trainer.data().test);
  return out;
}

std::vector<bool> correct(const Evaluated& e) {
  std::vector<bool> out(e.labels.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = e.predictions[i] == e.labels[i];
  return out;
}

void check_same_dataset(const Run& a, const Run& b) {
  NABLA_CHECK(a.config.dataset == b.config.dataset, ValueError, "A was trained on ",
              a.config.dataset, " but B on ", b.config.dataset,
              "; a comparison needs one test set");
}

void check_same_test_set(const Evaluated& a, const Evaluated& b) {
  NABLA_CHECK(a.labels.size() == b.labels.size(), ValueError, "the test sets differ: A's has ",
              a.labels.size(), " images, B's ", b.labels.size(),
              " (--test-images N evaluates both on the same first N)");
  NABLA_CHECK(a.labels == b.labels, ValueError,
              "the test sets differ: they have the same size but not the same labels");
}

// p-values span hundreds of orders of magnitude; a double's smallest is about 1e-308.
std::string format_p(double p) {
  if (p == 0) return "< 1e-300";
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", p);
  return text;
}

std::string signed_points(double points) {
  char text[32];
  std::snprintf(text, sizeof text, "%+.2f", points);
  return text;
}

std::string general(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", x);
  return text;
}

// "B beats A: +1.20 points (95% CI +0.40 to +2.00), McNemar exact p = 0.003 < 0.05", or no
// significant difference. McNemar's exact test decides; the interval shows the size.
std::string verdict(const hpo::PairedCounts& counts, const hpo::McNemar& test,
                    const hpo::PairedBootstrap& boot, const Options& options) {
  const std::string p = format_p(test.exact_p);
  if (!(test.exact_p < options.alpha))
    return "no significant difference at alpha " + general(options.alpha) +
           " (McNemar exact p = " + p + ")";
  const bool b_wins = counts.b_only > counts.a_only;
  // The winner's lead: B - A, or A - B with the interval mirrored.
  const hpo::Interval& d = boot.difference.interval;
  const double sign = b_wins ? 100 : -100;
  return std::string(b_wins ? "B beats A: " : "A beats B: ") +
         signed_points(sign * boot.difference.value) + " points (" +
         general(100 * options.bootstrap.confidence) + "% CI " +
         signed_points(sign * (b_wins ? d.low : d.high)) + " to " +
         signed_points(sign * (b_wins ? d.high : d.low)) + "), McNemar exact p = " + p + " < " +
         general(options.alpha);
}

nlohmann::json model_json(const Evaluated& e, const hpo::Estimate& accuracy) {
  return {{"checkpoint", e.path},
          {"weights", e.weights},
          {"model", e.config.model},
          {"accuracy", 100 * accuracy.value},
          {"ci", {100 * accuracy.interval.low, 100 * accuracy.interval.high}}};
}

int compare(const Options& options) {
  const Run run_a = read_run(options.a, options), run_b = read_run(options.b, options);
  check_same_dataset(run_a, run_b);
  const Evaluated a = evaluate(run_a), b = evaluate(run_b);
  check_same_test_set(a, b);
  const std::vector<bool> a_correct = correct(a), b_correct = correct(b);
  const hpo::PairedCounts counts = hpo::paired_counts(a_correct, b_correct);
  const hpo::McNemar test = hpo::mcnemar(counts);
  const hpo::PairedBootstrap boot = hpo::paired_bootstrap(a_correct, b_correct, options.bootstrap);
  const double level = 100 * options.bootstrap.confidence;
  const std::string conclusion = verdict(counts, test, boot, options);

  std::printf("A: %s (%s, evaluated with %s)\nB: %s (%s, evaluated with %s)\n", a.path.c_str(),
              a.config.model.c_str(), a.weights.c_str(), b.path.c_str(), b.config.model.c_str(),
              b.weights.c_str());
  std::printf("test set: %ld images of %s; %ld bootstrap resamples, seed %lu\n\n",
              long(counts.total()), a.config.dataset.c_str(), long(options.bootstrap.resamples),
              static_cast<unsigned long>(options.bootstrap.seed));
  for (const auto& [name, e] : {std::pair{"A", boot.a}, std::pair{"B", boot.b}})
    std::printf("%s accuracy: %.2f%%  (%g%% CI %.2f%% to %.2f%%)\n", name, 100 * e.value, level,
                100 * e.interval.low, 100 * e.interval.high);
  std::printf("B - A: %+.2f points  (%g%% CI %+.2f to %+.2f; B ahead in %.1f%% of resamples)\n\n",
              100 * boot.difference.value, level, 100 * boot.difference.interval.low,
              100 * boot.difference.interval.high, 100 * boot.b_better_fraction);
  std::printf("%-10s %10s %10s\n%-10s %10ld %10ld\n%-10s %10ld %10ld\n\n", "", "B right", "B wrong",
              "A right", long(counts.both_right), long(counts.a_only), "A wrong",
              long(counts.b_only), long(counts.both_wrong));
  std::printf("McNemar exact p = %s (%ld discordant examples: %ld for A, %ld for B)\n",
              format_p(test.exact_p).c_str(), long(counts.a_only + counts.b_only),
              long(counts.a_only), long(counts.b_only));
  std::printf("McNemar chi-square = %.3f (continuity-corrected), p = %s\n", test.chi_square,
              format_p(test.chi_square_p).c_str());
  std::printf("%s\n", conclusion.c_str());

  if (!options.json.empty()) {
    const nlohmann::json figures = {
        {"test_images", counts.total()},
        {"dataset", a.config.dataset},
        {"a", model_json(a, boot.a)},
        {"b", model_json(b, boot.b)},
        {"difference",
         {{"points", 100 * boot.difference.value},
          {"ci", {100 * boot.difference.interval.low, 100 * boot.difference.interval.high}},
          {"b_better_fraction", boot.b_better_fraction}}},
        {"table",
         {{"both_right", counts.both_right},
          {"a_only", counts.a_only},
          {"b_only", counts.b_only},
          {"both_wrong", counts.both_wrong}}},
        {"mcnemar",
         {{"exact_p", test.exact_p},
          {"chi_square", test.chi_square},
          {"chi_square_p", test.chi_square_p}}},
        {"bootstrap",
         {{"resamples", options.bootstrap.resamples},
          {"confidence", options.bootstrap.confidence},
          {"seed", options.bootstrap.seed}}},
        {"alpha", options.alpha},
        {"verdict", conclusion}};
    std::ofstream out(options.json);
    out << figures.dump(2) << "\n";
    NABLA_CHECK(out.good(), IOError, "--json: cannot write '", options.json, "'");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{
      "nabla-compare: evaluate two nabla-train checkpoints on the same test set and "
      "test whether one is more accurate"};
  app.add_option("A", options.a, "the first checkpoint (nabla-train --checkpoint)")->required();
  app.add_option("B", options.b, "the second checkpoint")->required();
  app.add_option("--data", options.data_dir, "the dataset folder (else as the runs found it)");
  app.add_option("--test-images", options.test_images,
                 "evaluate on the first N test images (0: all; else the runs' own setting)");
  app.add_option("--device", options.device, "cpu or cuda (else the runs' own)");
  app.add_option("--threads", options.threads, "compute threads (0: every core)");
  app.add_option("--resamples", options.bootstrap.resamples, "bootstrap resamples")
      ->capture_default_str();
  app.add_option("--confidence", options.bootstrap.confidence, "the intervals' confidence level")
      ->capture_default_str();
  app.add_option("--seed", options.bootstrap.seed, "the bootstrap's seed")->capture_default_str();
  app.add_option("--alpha", options.alpha, "significance level of McNemar's test")
      ->capture_default_str();
  app.add_option("--json", options.json, "also write the figures here as JSON");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "nabla-compare: " << e.what() << " (see --help)\n";
    return train::kExitUsage;
  }
  try {
    NABLA_CHECK(options.alpha > 0 && options.alpha < 1, ValueError, "--alpha: ", options.alpha,
                " is not valid; it must be in (0, 1)");
    NABLA_CHECK(options.bootstrap.resamples >= 1, ValueError,
                "--resamples: ", options.bootstrap.resamples,
                " is not valid; it must be at least 1");
    NABLA_CHECK(options.bootstrap.confidence > 0 && options.bootstrap.confidence < 1, ValueError,
                "--confidence: ", options.bootstrap.confidence,
                " is not valid; it must be in (0, 1)");
    return compare(options);
  } catch (const std::exception& e) {
    // nabla's errors, and a checkpoint whose settings are not the JSON nabla-train writes.
    std::cerr << "nabla-compare: " << e.what() << "\n";
    return train::kExitUsage;
  }
}
