// second_order: first- and second-order optimizers side by side on Fashion-MNIST. Logistic
// regression (784 -> 10, softmax) and a small MLP (784 -> 64 -> 10, tanh), each trained on the
// full batch with SGD, Adam, L-BFGS, Hessian-free, K-FAC and Shampoo, every one made by its
// registry name. Writes a JSON-lines log per run (nabla-train's records, which tools/plot.py
// draws), PNG plots of the loss against iterations and wall time, and summary.md.
//   second_order --quick --out second-order-quick
//   second_order --out docs/results/second-order
// docs/second-order.md describes the comparison and how to read it.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "nabla.h"
#include "optim/hessian_free.h"

extern char** environ;

using namespace nabla;
namespace fs = std::filesystem;

namespace {

// ---- Settings ------------------------------------------------------------------------------

struct Config {
  std::string data_dir;
  int64_t train_images = 20000;
  int64_t test_images = 10000;
  int64_t hidden = 64;
  double iteration_scale = 1;  // times each optimizer's own iteration count
  int64_t eval_every = 10;
  std::vector<std::string> tasks = {"logistic", "mlp"};
  std::vector<std::string> optimizers;  // labels; empty: all of them
  std::vector<std::string> overrides;   // label.option=value
  uint64_t seed = 0;
  int threads = 0;
  bool quick = false;
  bool no_plots = false;
  std::string out = "second-order";
  std::string plot_script = NABLA_PLOT_SCRIPT;
  std::string python;
};

// What --quick changes unless the flag is given: about a minute in all.
constexpr int64_t kQuickImages = 1000;
constexpr double kQuickIterationScale = 0.1;

void add_flags(CLI::App& app, Config& c) {
  app.option_defaults()->always_capture_default();
  app.add_option("--data", c.data_dir,
                 "the folder holding fashion-mnist/ (default: the usual "
                 "search, then /usr/share/datasets/fashion-mnist)");
  app.add_option("--train-images", c.train_images,
                 "train on the first N training images, all in every batch (--quick: 1000)");
  app.add_option("--test-images", c.test_images,
                 "evaluate on the first N test images "
                 "(--quick: 1000)");
  app.add_option("--hidden", c.hidden, "hidden units of the MLP");
  app.add_option("--iteration-scale", c.iteration_scale,
                 "scales every optimizer's iteration count (--quick: 0.1)");
  app.add_option("--eval-every", c.eval_every, "evaluate on the test images every N iterations");
  app.add_option("--tasks", c.tasks, "logistic, mlp or both")->delimiter(',');
  app.add_option("--optimizers", c.optimizers,
                 "the runs to make, by label (default: sgd,adam,lbfgs,hessian_free,kfac,shampoo)")
      ->delimiter(',');
  app.add_option("--opt", c.overrides,
                 "an option of one optimizer on both tasks, label.option=value (repeatable), "
                 "e.g. sgd.lr=0.1");
  app.add_option("--seed", c.seed, "seeds the weights of every run");
  app.add_option("--threads", c.threads, "compute threads (0: every core)");
  app.add_flag("--quick", c.quick, "fewer images and iterations: a check in about a minute");
  app.add_option("--out", c.out, "folder for summary.md, logs/ and plots/");
  app.add_flag("--no-plots", c.no_plots, "write the logs and summary.md only");
  app.add_option("--plot", c.plot_script, "tools/plot.py");
  app.add_option("--python", c.python,
                 "the Python that runs plot.py (default: python3, else /usr/bin/python3, "
                 "whichever has matplotlib)");
}

// ---- The optimizers ------------------------------------------------------------------------

// One optimizer of the comparison: its registry name and options on each task, and how many
// iterations it gets (a second-order step costs several first-order ones, so fewer).
struct Setup {
  std::string label;
  std::string name;
  std::map<std::string, optim::OptionMap> options;  // by task
  int64_t iterations;
};

// Learning rates from a sweep over a coarse grid (steps of about 3x) on the first 3000 images
// with half the iterations: per task, the one with the lowest final training loss. Hessian-free
// keeps lr 1 (its step comes from the quadratic model) and starts with damping 0.1, which did
// better there than the default 1.
const std::vector<Setup>& setups() {
  static const std::vector<Setup> all = {
      {"sgd",
       "sgd",
       {{"logistic", {{"lr", 0.2}, {"momentum", 0.9}}}, {"mlp", {{"lr", 0.5}, {"momentum", 0.9}}}},
       300},
      {"adam", "adam", {{"logistic", {{"lr", 0.03}}}, {"mlp", {{"lr", 0.01}}}}, 300},
      {"lbfgs",
       "lbfgs",
       {{"logistic", {{"max_iter", 1}, {"history_size", 10}, {"line_search", "strong_wolfe"}}},
        {"mlp", {{"max_iter", 1}, {"history_size", 10}, {"line_search", "strong_wolfe"}}}},
       150},
      {"hessian_free",
       "hessian_free",
       {{"logistic", {{"curvature", "gauss_newton"}, {"damping", 0.1}}},
        {"mlp", {{"curvature", "gauss_newton"}, {"damping", 0.1}}}},
       30},
      {"kfac", "kfac", {{"logistic", {{"lr", 1.0}}}, {"mlp", {{"lr", 1.0}}}}, 100},
      {"shampoo", "shampoo", {{"logistic", {{"lr", 0.1}}}, {"mlp", {{"lr", 0.03}}}}, 150},
  };
  return all;
}

// ---- Data ----------------------------------------------------------------------------------

struct Split {
  Tensor x;  // [N, 784] float32, standardized
  Tensor y;  // [N] int64
};

struct Data {
  Split train, test;
  std::string summary;
};

// The first `count` images of `images` [N, 28, 28] uint8 as rows, standardized with the
// training pixels' mean and deviation.
Tensor rows(const Tensor& images, int64_t count, double mean, double deviation) {
  Tensor x = to(slice(images, 0, 0, count), kFloat32);
  return (reshape(x, {count, -1}) / 255.0 - mean) / deviation;
}

Data load_data(const Config& c) {
  data::FashionMnist fashion = data::load_fashion_mnist(c.data_dir);
  const int64_t n_train = std::min(c.train_images, fashion.train.size());
  const int64_t n_test = std::min(c.test_images, fashion.test.size());
  Tensor pixels = to(slice(fashion.train.images, 0, 0, n_train), kFloat64) / 255.0;
  const double mean = nabla::mean(pixels).item();
  const double deviation = std::sqrt(var(pixels, {}, 0).item());
  Data d;
  d.train = {rows(fashion.train.images, n_train, mean, deviation),
             slice(fashion.train.labels, 0, 0, n_train)};
  d.test = {rows(fashion.test.images, n_test, mean, deviation),
            slice(fashion.test.labels, 0, 0, n_test)};
  d.summary = fashion.summary() + "; using the first " + std::to_string(n_train) +
              " training and " + std::to_string(n_test) + " test images";
  return d;
}

// ---- Models --------------------------------------------------------------------------------

std::shared_ptr<nn::Module> build_model(const std::string& task, const Config& c) {
  if (task == "logistic") return nn::sequential({std::make_shared<nn::Linear>(784, 10)});
  return nn::sequential({std::make_shared<nn::Linear>(784, c.hidden), std::make_shared<nn::Tanh>(),
                         std::make_shared<nn::Linear>(c.hidden, 10)});
}

std::string describe_task(const std::string& task, const Config& c) {
  if (task == "logistic") return "logistic regression (784 -> 10, softmax)";
  return "MLP (784 -> " + std::to_string(c.hidden) + " -> 10, tanh)";
}

struct Evaluation {
  double loss = 0;
  double accuracy = 0;  // percent
};

Evaluation evaluate(const Tensor& logits, const Tensor& labels) {
  Evaluation e;
  e.loss = nn::cross_entropy(logits, labels).item();
  Tensor correct = eq(argmax(logits, 1), labels);
  e.accuracy = 100.0 * sum(to(correct, kFloat64)).item() / double(labels.size(0));
  return e;
}

Evaluation evaluate(nn::Module& model, const Split& split) {
  NoGradGuard no_grad;
  return evaluate(model(split.x), split.y);
}

// ---- One run -------------------------------------------------------------------------------

struct RunResult {
  std::string task, label, name;
  std::string status = "completed";  // or "missing", "diverged at step k", "failed: ..."
  int64_t iterations = 0;
  int64_t closure_calls = 0;
  double seconds = 0;  // in steps, evaluations left out
  Evaluation train, test;
  int64_t state_bytes = 0;
  std::string log;
};

int64_t state_bytes(const optim::Optimizer& optimizer) {
  int64_t bytes = 0;
  for (const auto& [name, t] : optimizer.state_dict().tensors)
    bytes += t.numel() * static_cast<int64_t>(itemsize(t.dtype()));
  return bytes;
}

// One step on the whole training set. Hessian-free takes a closure that returns the model's
// outputs with the loss, for its Gauss-Newton products; the others the usual closure. `logits`
// keeps the outputs at the weights the step started from.
optim::StepResult take_step(optim::Optimizer& optimizer, nn::Module& model, const Split& train,
                            Tensor& logits) {
  auto forward = [&] {
    Tensor z = model(train.x);  // [N, 10]
    if (!logits.defined()) logits = detach(z);
    return optim::ModelOutputs{z, nn::cross_entropy(z, train.y)};
  };
  if (auto* hessian_free = dynamic_cast<optim::HessianFree*>(&optimizer))
    return hessian_free->step(optim::OutputsClosure(forward));
  return optimizer.step([&] {
    optim::ModelOutputs m = forward();
    backward(m.loss);
    return m.loss;
  });
}

class Clock {
 public:
  void start() { begin_ = std::chrono::steady_clock::now(); }
  void stop() {
    total_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - begin_).count();
  }
  double seconds() const { return total_; }

 private:
  std::chrono::steady_clock::time_point begin_;
  double total_ = 0;
};

RunResult run(const std::string& task, const Setup& setup, const Data& data, const Config& c,
              const fs::path& logs) {
  RunResult r;
  r.task = task;
  r.label = setup.label;
  r.name = setup.name;
  r.log = (logs / (task + "-" + setup.label + ".jsonl")).string();
  if (!optim::optimizer_registry().contains(setup.name)) {
    r.status = "missing";
    return r;
  }
  manual_seed(c.seed);  // every optimizer starts from the same weights
  std::shared_ptr<nn::Module> model = build_model(task, c);
  const optim::OptionMap& options = setup.options.at(task);
  std::unique_ptr<optim::Optimizer> optimizer =
      optim::create(setup.name, model->named_parameters(), options);
  optim::attach_model(*optimizer, *model);  // K-FAC hooks the layers; the others need no model
  const auto iterations =
      std::max<int64_t>(1, std::llround(double(setup.iterations) * c.iteration_scale));

  std::ofstream log(r.log);
  nlohmann::json config = {{"dataset", "fashion-mnist"},
                           {"model", task},
                           {"optimizer", setup.name},
                           {"iterations", iterations},
                           {"train_images", data.train.x.size(0)},
                           {"batch_size", data.train.x.size(0)}};
  for (const auto& [option, value] : options) config["options"][option] = value.str();
  log << nlohmann::json{{"type", "config"},
                        {"step", 0},
                        {"config", config},
                        {"data", data.summary},
                        {"parameters", model->num_parameters()}}
             .dump()
      << "\n";

  // Record k describes the weights after k steps, at the seconds those steps took: their loss
  // and accuracy on the training set (from the closure of step k + 1, which evaluates them
  // anyway, or at the end), the test set's every eval_every steps, and what step k did (its
  // closure calls, the optimizer's own scalars such as damping or CG iterations).
  Clock clock;
  nlohmann::json last_step = nlohmann::json::object();
  auto write_record = [&](int64_t after, double seconds, const Evaluation& train,
                          const std::optional<Evaluation>& test) {
    nlohmann::json record = {{"type", "step"},
                             {"epoch", 1},
                             {"step", after},
                             {"loss", train.loss},
                             {"accuracy", train.accuracy},
                             {"time", seconds},
                             {"lr", optimizer->lr()}};
    record.update(last_step);
    if (test) {
      record["test_loss"] = test->loss;
      record["test_accuracy"] = test->accuracy;
    }
    log << record.dump() << "\n";
  };
  for (int64_t step = 1; step <= iterations; ++step) {
    std::optional<Evaluation> test;
    if ((step - 1) % c.eval_every == 0) test = evaluate(*model, data.test);
    const double seconds_before = clock.seconds();
    Tensor logits;
    clock.start();
    optim::StepResult result = take_step(*optimizer, *model, data.train, logits);
    clock.stop();
    const Evaluation start = evaluate(logits, data.train.y);  // of the weights before the step
    r.iterations = step;
    r.closure_calls += result.closure_calls;
    if (!std::isfinite(start.loss)) {
      r.status = "diverged at step " + std::to_string(step);
      break;
    }
    write_record(step - 1, seconds_before, start, test);
    last_step = {{"closure_calls", result.closure_calls}};
    if (const optim::State* state = optimizer->state(optimizer->named_parameters()[0].first))
      for (const auto& [scalar, value] : state->scalars()) last_step["state"][scalar] = value;
  }
  r.seconds = clock.seconds();
  r.train = evaluate(*model, data.train);
  r.test = evaluate(*model, data.test);
  r.state_bytes = state_bytes(*optimizer);
  if (r.status == "completed") write_record(r.iterations, r.seconds, r.train, r.test);
  log << nlohmann::json{{"type", "end"},
                        {"stopped", r.status == "completed" ? "completed" : "diverged"},
                        {"step", r.iterations},
                        {"time", r.seconds},
                        {"train_loss", r.train.loss},
                        {"test_loss", r.test.loss},
                        {"test_accuracy", r.test.accuracy}}
             .dump()
      << "\n";
  return r;
}

// ---- Plots ---------------------------------------------------------------------------------

// Runs `argv` (argv[0] found on the PATH when it holds no '/') with its output sent to
// `output` and returns its exit code (-1 when it did not start or was killed). No shell, so no
// argument is reinterpreted.
int run_program(const std::vector<std::string>& argv, const std::string& output) {
  std::vector<char*> pointers;
  for (const std::string& arg : argv) pointers.push_back(const_cast<char*>(arg.c_str()));
  pointers.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, output.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = 0;
  const int error = posix_spawnp(&pid, pointers[0], &actions, nullptr, pointers.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Draws each task's curves into out/plots/; returns the note summary.md gives on them.
std::string draw_plots(const Config& c, const std::vector<RunResult>& results) {
  if (c.no_plots) return "No plots were asked for (--no-plots).";
  std::vector<std::string> pythons = {"python3", "/usr/bin/python3"};
  if (!c.python.empty()) pythons = {c.python};
  std::string python;
  for (const std::string& candidate : pythons)
    if (python.empty() && run_program({candidate, "-c", "import matplotlib"}, "/dev/null") == 0)
      python = candidate;
  if (python.empty() || !fs::exists(c.plot_script)) {
    std::cout << "second_order: no plots: no Python with matplotlib, or no " << c.plot_script
              << "\n";
    return "No plots were drawn: no Python with matplotlib, or no plot script.";
  }
  const fs::path plots = fs::path(c.out) / "plots";
  fs::create_directories(plots);
  std::string note =
      "In plots/, for each task: the training loss (dotted) and the test loss (dashed) of the "
      "weights after each step, against iterations (`<task>-loss-step.png`) and against the "
      "seconds spent in steps (`<task>-loss-step-time.png`), and the same for the accuracy.";
  for (const std::string& task : c.tasks) {
    std::vector<std::string> argv = {python,       c.plot_script,
                                     "--per-step", "--log-loss",
                                     "--out",      plots.string(),
                                     "--prefix",   task,
                                     "--title",    describe_task(task, c) + ", full batch"};
    std::vector<std::string> logs;
    for (const RunResult& r : results) {
      if (r.task != task || r.status == "missing" || r.status.starts_with("failed")) continue;
      argv.insert(argv.end(), {"--label", r.label});
      logs.push_back(r.log);
    }
    if (logs.empty()) continue;
    argv.insert(argv.end(), logs.begin(), logs.end());
    if (run_program(argv, (plots / (task + "-plot.txt")).string()) != 0)
      note += "\n\nplot.py failed on " + task + ": see plots/" + task + "-plot.txt.";
  }
  return note;
}

// ---- summary.md ----------------------------------------------------------------------------

std::string fixed(double value, int digits) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

void write_summary(const Config& c, const Data& data, const std::vector<Setup>& chosen,
                   const std::vector<RunResult>& results, const std::string& command,
                   double seconds, const std::string& plots_note) {
  std::ofstream md(fs::path(c.out) / "summary.md");
  md << "# Second-order optimizers on Fashion-MNIST\n\n"
     << data.summary << ". Every step sees the whole training set (full batch); every run of a "
     << "task starts from the same weights (seed " << c.seed << "). Time per step counts the "
     << "steps only (closure calls included, test evaluations left out); the optimizer state is "
     << "the bytes of the tensors in its state_dict. The whole comparison took "
     << fixed(seconds / 60, 1) << " minutes.\n\n"
     << "Command: `" << command << "`\n";
  std::vector<std::string> missing;
  for (const std::string& task : c.tasks) {
    md << "\n## " << describe_task(task, c) << "\n\n"
       << "| optimizer | iterations | final train loss | test accuracy | ms per step | "
          "closure calls per step | optimizer state (bytes) | status |\n"
       << "|---|---:|---:|---:|---:|---:|---:|---|\n";
    for (const RunResult& r : results) {
      if (r.task != task) continue;
      if (r.status == "missing") {
        md << "| " << r.label << " | - | - | - | - | - | - | not registered in this build |\n";
        if (std::find(missing.begin(), missing.end(), r.name) == missing.end())
          missing.push_back(r.name);
        continue;
      }
      const double steps = double(std::max<int64_t>(r.iterations, 1));
      md << "| " << r.label << " | " << r.iterations << " | " << fixed(r.train.loss, 4) << " | "
         << fixed(r.test.accuracy, 2) << "% | " << fixed(1000 * r.seconds / steps, 1) << " | "
         << fixed(double(r.closure_calls) / steps, 1) << " | " << r.state_bytes << " | " << r.status
         << " |\n";
    }
  }
  if (!missing.empty()) {
    md << "\nNot registered in this build, so left out:";
    for (const std::string& name : missing) md << " " << name;
    md << ".\n";
  }
  md << "\n## Options\n\n";
  for (const Setup& s : chosen) {
    md << "- " << s.label << " (`" << s.name << "`, " << s.iterations << " iterations before "
       << "scaling):";
    for (const auto& [task, options] : s.options) {
      md << " " << task << " {";
      bool first = true;
      for (const auto& [option, value] : options) {
        md << (first ? "" : ", ") << option << " " << value.str();
        first = false;
      }
      md << "}";
    }
    md << "\n";
  }
  md << "\n" << plots_note << "\n";
}

std::string joined(int argc, char** argv) {
  std::string line = "second_order";
  for (int i = 1; i < argc; ++i) line += std::string(" ") + argv[i];
  return line;
}

int compare(Config& c, const std::string& command) {
  if (c.threads > 0) set_num_threads(c.threads);
  for (const std::string& task : c.tasks)
    if (task != "logistic" && task != "mlp") {
      std::cerr << "second_order: --tasks: unknown task '" << task << "'; known: logistic, mlp\n";
      return 2;
    }
  std::vector<Setup> chosen;
  for (const Setup& s : setups())
    if (c.optimizers.empty() ||
        std::find(c.optimizers.begin(), c.optimizers.end(), s.label) != c.optimizers.end())
      chosen.push_back(s);
  for (const std::string& entry : c.overrides) {
    const size_t dot = entry.find('.'), equals = entry.find('=');
    auto setup = std::find_if(chosen.begin(), chosen.end(),
                              [&](const Setup& s) { return s.label == entry.substr(0, dot); });
    if (dot == std::string::npos || equals == std::string::npos || equals < dot ||
        setup == chosen.end()) {
      std::cerr << "second_order: --opt " << entry
                << ": expected label.option=value for one of the chosen optimizers\n";
      return 2;
    }
    // A text value: the registry converts it to the option's type when the optimizer is made.
    for (auto& [task, options] : setup->options)
      options.insert_or_assign(entry.substr(dot + 1, equals - dot - 1), entry.substr(equals + 1));
  }
  const Data data = load_data(c);
  std::cout << data.summary << "\n";
  const fs::path logs = fs::path(c.out) / "logs";
  fs::create_directories(logs);

  const auto start = std::chrono::steady_clock::now();
  std::vector<RunResult> results;
  for (const std::string& task : c.tasks) {
    for (const Setup& s : chosen) {
      std::cout << task << " / " << s.label << " ... " << std::flush;
      try {
        results.push_back(run(task, s, data, c, logs));
      } catch (const Error& e) {
        RunResult failed;
        failed.task = task;
        failed.label = s.label;
        failed.name = s.name;
        failed.status = std::string("failed: ") + e.what();
        results.push_back(failed);
      }
      const RunResult& r = results.back();
      if (r.status == "missing")
        std::cout << "'" << s.name << "' is not registered in this build; skipping it\n";
      else
        std::printf(
            "%ld iterations, train loss %.4f, test accuracy %.2f%%, %.1f ms per step, "
            "%ld state bytes, %s\n",
            long(r.iterations), r.train.loss, r.test.accuracy,
            1000 * r.seconds / double(std::max<int64_t>(r.iterations, 1)), long(r.state_bytes),
            r.status.c_str());
      std::fflush(stdout);
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  write_summary(c, data, chosen, results, command, seconds, draw_plots(c, results));
  std::printf("%zu runs in %.1f minutes; summary: %s\n", results.size(), seconds / 60,
              (fs::path(c.out) / "summary.md").c_str());
  for (const RunResult& r : results)
    if (r.status.starts_with("failed")) return 1;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Config config;
  CLI::App app{
      "second_order: SGD, Adam, L-BFGS, Hessian-free, K-FAC and Shampoo on logistic "
      "regression and an MLP (Fashion-MNIST, full batch); logs, plots and a summary"};
  add_flags(app, config);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "second_order: " << e.what() << " (see --help)\n";
    return 2;
  }
  if (config.quick && app.count("--train-images") == 0) config.train_images = kQuickImages;
  if (config.quick && app.count("--test-images") == 0) config.test_images = kQuickImages;
  if (config.quick && app.count("--iteration-scale") == 0)
    config.iteration_scale = kQuickIterationScale;
  try {
    return compare(config, joined(argc, argv));
  } catch (const Error& e) {
    std::cerr << "second_order: " << e.what() << "\n";
    return 2;
  }
}
