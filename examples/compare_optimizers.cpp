// compare_optimizers: the classic optimizer study. It runs nabla-train once per configuration, one
// run at a time, every run with the same data, model and seed: SGD, SGD with momentum, Nesterov,
// RMSProp, Adam and AdamW at their usual learning rates, a learning-rate sweep per optimizer, a
// batch-size sweep and Xavier against He initialization. Then it writes summary.md and draws the
// curves with tools/plot.py.
//   compare_optimizers --dataset fashion-mnist --model mlp --quick --out study
//   compare_optimizers --dataset cifar10 --data ../shared/data --model cnn --epochs 30 --out study
// docs/optimizer-study.md describes the study and how to read its plots.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace fs = std::filesystem;

namespace {

// ---- The study's settings ------------------------------------------------------------------

struct StudyConfig {
  std::string dataset = "fashion-mnist";
  std::string data_dir;
  std::string model = "mlp";
  int64_t epochs = 20;
  int64_t train_images = 0;  // 0: all of them
  int64_t test_images = 0;   // 0: all of them
  double validation = 0.1;
  std::string schedule = "fixed";
  std::vector<std::string> schedule_options;
  int64_t early_stopping = 0;
  uint64_t seed = 0;
  int threads = 0;
  bool quick = false;
  bool no_plots = false;
  std::string out = "optimizer-study";
  std::string train_program;  // empty: nabla-train beside this program
  std::string plot_script = NABLA_PLOT_SCRIPT;
  std::string python;  // empty: the first python3 that has matplotlib
};

// What --quick changes unless the flag is given: a few minutes in all.
constexpr int64_t kQuickEpochs = 2;
constexpr int64_t kQuickTrainImages = 3000;
// Every run uses this batch size except those of the batch-size sweep.
constexpr int64_t kBatchSize = 128;

void add_flags(CLI::App& app, StudyConfig& c) {
  app.option_defaults()->always_capture_default();
  app.add_option("--dataset", c.dataset, "any dataset nabla-train reads");
  app.add_option("--data", c.data_dir, "the dataset folder, passed to nabla-train");
  app.add_option("--model", c.model, "any model nabla-train builds (mlp, cnn, resnet20...)");
  app.add_option("--epochs", c.epochs, "epochs per run (--quick: 2)");
  app.add_option("--train-images", c.train_images,
                 "train on the first N images only (0: all; --quick: 3000)");
  app.add_option("--test-images", c.test_images, "evaluate on the first N test images (0: all)");
  app.add_option("--validation", c.validation,
                 "fraction held out for validation: early stopping, the plateau schedule and the "
                 "plots watch it (0: the test set instead)");
  app.add_option("--schedule", c.schedule,
                 "the learning-rate schedule of every run (fixed, plateau, cosine...)");
  app.add_option("--sched-opt", c.schedule_options,
                 "a schedule option, key=value (repeatable), e.g. patience=2 for plateau");
  app.add_option("--early-stopping", c.early_stopping,
                 "stop a run after this many epochs without a better validation loss (0: off)");
  app.add_option("--seed", c.seed, "the seed of every run");
  app.add_option("--threads", c.threads, "compute threads of each run (0: every core)");
  app.add_flag("--quick", c.quick,
               "fewer runs, epochs and images: a check of the study in a few minutes");
  app.add_option("--out", c.out, "folder for the logs, summary.md and plots/");
  app.add_option("--train", c.train_program, "the nabla-train program (default: beside this one)");
  app.add_option("--plot", c.plot_script, "tools/plot.py");
  app.add_flag("--no-plots", c.no_plots, "write the logs and summary.md only");
  app.add_option("--python", c.python,
                 "the Python that runs plot.py (default: python3 on the PATH, else "
                 "/usr/bin/python3, whichever has matplotlib)");
}

// ---- The plan: which runs, and which plots show them ---------------------------------------

struct OptimizerSetup {
  std::string label;                 // names the runs: "nesterov"
  std::string name;                  // nabla-train's --optimizer
  std::vector<std::string> options;  // its --opt key=value entries
  double weight_decay;
  double usual_lr;
  std::vector<double> lr_sweep;
};

// SGD-like rules sweep 0.1 to 0.001; adaptive ones, which divide by the gradient's scale, a decade
// lower, where 0.1 would not be a sensible rate. Weight decay is nabla-train's 5e-4 (an L2 term),
// except for AdamW, whose decay is decoupled and multiplied by the learning rate, so it takes
// PyTorch's default 0.01.
const std::vector<OptimizerSetup>& optimizer_setups() {
  static const std::vector<OptimizerSetup> setups = {
      {"sgd", "sgd", {}, 5e-4, 0.1, {0.1, 0.01, 0.001}},
      {"momentum", "sgd", {"momentum=0.9"}, 5e-4, 0.01, {0.1, 0.01, 0.001}},
      {"nesterov", "sgd", {"momentum=0.9", "nesterov=true"}, 5e-4, 0.01, {0.1, 0.01, 0.001}},
      {"rmsprop", "rmsprop", {}, 5e-4, 0.001, {0.01, 0.001, 0.0001}},
      {"adam", "adam", {}, 5e-4, 0.001, {0.01, 0.001, 0.0001}},
      {"adamw", "adamw", {}, 1e-2, 0.001, {0.01, 0.001, 0.0001}},
  };
  return setups;
}

const OptimizerSetup& setup(const std::string& label) {
  for (const OptimizerSetup& s : optimizer_setups())
    if (s.label == label) return s;
  throw std::logic_error("no optimizer setup " + label);
}

struct Run {
  const OptimizerSetup* optimizer;
  double lr;
  int64_t batch_size;
  std::string init;

  std::string name() const {
    std::ostringstream os;
    os << optimizer->label << "-lr" << lr << "-b" << batch_size << "-" << init;
    return os.str();
  }
};

// A plot: its file-name prefix, title and runs (indices into Plan::runs).
struct Group {
  std::string prefix;
  std::string title;
  std::vector<size_t> runs;
};

struct Plan {
  std::vector<Run> runs;
  std::vector<Group> groups;

  // Adds `run` to the group `prefix` (made on first use), and to the runs unless already there.
  void add(const std::string& prefix, const std::string& title, const Run& run) {
    size_t index = 0;
    while (index < runs.size() && runs[index].name() != run.name()) ++index;
    if (index == runs.size()) runs.push_back(run);
    auto group = std::find_if(groups.begin(), groups.end(),
                              [&](const Group& g) { return g.prefix == prefix; });
    if (group == groups.end()) group = groups.insert(groups.end(), {prefix, title, {}});
    group->runs.push_back(index);
  }
};

// The full study (26 runs): every optimizer at its usual rate, a learning-rate sweep for each,
// and batch sizes 32/64/128 and default/Xavier/He initialization for SGD with momentum and Adam.
// --quick keeps the comparison and sweeps SGD with momentum only (12 runs).
Plan plan_study(bool quick) {
  Plan plan;
  for (const OptimizerSetup& s : optimizer_setups())
    plan.add("optimizers", "Optimizers at their usual learning rate",
             {&s, s.usual_lr, kBatchSize, "default"});
  for (const OptimizerSetup& s : optimizer_setups()) {
    if (quick && s.label != "momentum") continue;
    for (double lr : s.lr_sweep)
      plan.add("lr-" + s.label, "Learning rate: " + s.label, {&s, lr, kBatchSize, "default"});
  }
  const std::vector<std::string> batch_and_init_sweeps =
      quick ? std::vector<std::string>{"momentum"} : std::vector<std::string>{"momentum", "adam"};
  for (const std::string& label : batch_and_init_sweeps) {
    const OptimizerSetup& s = setup(label);
    for (int64_t batch : {32, 64, 128})
      plan.add("batch-" + label, "Batch size: " + label + " (same learning rate)",
               {&s, s.usual_lr, batch, "default"});
    for (const char* init : {"default", "xavier", "he"})
      plan.add("init-" + label, "Initialization: " + label, {&s, s.usual_lr, kBatchSize, init});
  }
  return plan;
}

std::string number(double value) {
  std::ostringstream os;
  os << value;
  return os.str();
}

// nabla-train's arguments for `run`, its program name left out.
std::vector<std::string> train_arguments(const StudyConfig& c, const Run& run,
                                         const std::string& log) {
  std::vector<std::string> args = {"--dataset", c.dataset, "--model", c.model};
  if (!c.data_dir.empty()) args.insert(args.end(), {"--data", c.data_dir});
  if (c.train_images > 0) args.insert(args.end(), {"--train-images", number(c.train_images)});
  if (c.test_images > 0) args.insert(args.end(), {"--test-images", number(c.test_images)});
  if (c.validation > 0) args.insert(args.end(), {"--validation", number(c.validation)});
  args.insert(args.end(), {"--optimizer", run.optimizer->name});
  for (const std::string& option : run.optimizer->options)
    args.insert(args.end(), {"--opt", option});
  args.insert(args.end(),
              {"--lr", number(run.lr), "--weight-decay", number(run.optimizer->weight_decay),
               "--batch-size", number(run.batch_size), "--init", run.init, "--epochs",
               number(c.epochs), "--schedule", c.schedule, "--warmup", "0"});
  for (const std::string& option : c.schedule_options)
    args.insert(args.end(), {"--sched-opt", option});
  if (c.early_stopping > 0) args.insert(args.end(), {"--early-stopping", number(c.early_stopping)});
  args.insert(args.end(), {"--seed", number(c.seed), "--threads", number(c.threads), "--log", log});
  return args;
}

// ---- Child processes -----------------------------------------------------------------------

struct ExitStatus {
  bool started = false;
  int code = -1;   // when it exited
  int signal = 0;  // when a signal ended it
};

// Runs `argv` (argv[0] found on the PATH when it holds no '/') and waits for it; its stdout and
// stderr go to `output` ("" keeps ours). No shell, so no argument is ever reinterpreted.
ExitStatus run_program(const std::vector<std::string>& argv, const std::string& output) {
  std::vector<char*> pointers;
  for (const std::string& arg : argv) pointers.push_back(const_cast<char*>(arg.c_str()));
  pointers.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!output.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, output.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  }
  pid_t pid = 0;
  const int error = posix_spawnp(&pid, pointers[0], &actions, nullptr, pointers.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ExitStatus status;
  if (error != 0) return status;
  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0)
    if (errno != EINTR) return status;
  status.started = true;
  if (WIFEXITED(wait_status)) status.code = WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) status.signal = WTERMSIG(wait_status);
  return status;
}

// An argument as a shell reads it back: as it is when it holds only safe characters, else quoted.
std::string shell_quoted(const std::string& arg) {
  static const std::string safe =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=./,:+";
  if (!arg.empty() && arg.find_first_not_of(safe) == std::string::npos) return arg;
  std::string quoted = "'";
  for (char ch : arg) quoted += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return quoted + "'";
}

// A command as one line a shell can run, for summary.md and messages.
std::string command_line(const std::vector<std::string>& argv) {
  std::string line;
  for (const std::string& arg : argv) line += (line.empty() ? "" : " ") + shell_quoted(arg);
  return line;
}

// ---- What a run's log says -----------------------------------------------------------------

struct RunResult {
  std::optional<double> best_test_accuracy;
  int64_t best_epoch = 0;
  std::optional<double> final_test_accuracy;  // of the weights the run ends with
  int64_t epochs = 0;                         // completed
  double seconds = 0;
  std::string stopped;
};

RunResult read_result(const std::string& log_path, const ExitStatus& status,
                      const std::string& output_name) {
  RunResult result;
  std::ifstream log(log_path);
  std::string line;
  while (std::getline(log, line)) {
    const nlohmann::json record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!record.is_object()) break;  // a line cut short by a crash ends what can be read
    const std::string type = record.value("type", "");
    if (type == "epoch") {
      result.epochs = record.value("epoch", int64_t{0});
      result.seconds = record.value("time", 0.0);
      const double accuracy = record.value("test_accuracy", 0.0);
      if (!result.best_test_accuracy || accuracy > *result.best_test_accuracy) {
        result.best_test_accuracy = accuracy;
        result.best_epoch = result.epochs;
      }
    } else if (type == "end") {
      result.seconds = record.value("time", result.seconds);
      result.stopped = record.value("stopped", "");
      if (record.contains("test_accuracy")) result.final_test_accuracy = record["test_accuracy"];
      if (result.stopped == "diverged")
        result.stopped += " at step " + std::to_string(record.value("step", int64_t{0}));
      if (record.contains("best_epoch"))
        result.stopped += " (best epoch " + std::to_string(record.value("best_epoch", 0)) + ")";
      std::replace(result.stopped.begin(), result.stopped.end(), '_', ' ');
    }
  }
  if (!status.started)
    result.stopped = "failed: nabla-train did not start";
  else if (status.signal != 0)
    result.stopped = "failed: killed by signal " + std::to_string(status.signal);
  else if (result.stopped.empty() || (status.code != 0 && status.code != 3))
    result.stopped = "failed: exit code " + std::to_string(status.code) + ", see " + output_name;
  return result;
}

bool failed(const RunResult& result) { return result.stopped.starts_with("failed"); }

// ---- summary.md ----------------------------------------------------------------------------

std::string percent(const std::optional<double>& value) {
  if (!value) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.2f%%", *value);
  return text;
}

void write_summary(const StudyConfig& c, const Plan& plan, const std::vector<RunResult>& results,
                   const std::vector<std::string>& commands, double study_seconds,
                   const std::string& plots_note) {
  std::ofstream md(fs::path(c.out) / "summary.md");
  md << "# Optimizer study: " << c.model << " on " << c.dataset << "\n\n"
     << plan.runs.size() << " runs of nabla-train, one at a time, each with the same data, model "
     << "and seed (" << c.seed << "): " << c.epochs << (c.epochs == 1 ? " epoch" : " epochs")
     << (c.train_images > 0 ? " on the first " + std::to_string(c.train_images) + " training images"
                            : "")
     << ", "
     << (c.validation > 0 ? number(100 * c.validation) + "% held out for validation"
                          : "no validation split")
     << ", schedule " << c.schedule;
  for (const std::string& option : c.schedule_options) md << " " << option;
  if (c.early_stopping > 0) md << ", early stopping after " << c.early_stopping << " epochs";
  md << ", batch " << kBatchSize << " unless the row says otherwise"
     << (c.quick ? " (--quick)" : "") << ". The study took " << std::fixed << std::setprecision(1)
     << study_seconds / 60 << " minutes.\n\n"
     << "Best test accuracy is the highest of the epochs (in brackets); final is that of the "
     << "weights the run ends with (the best epoch's under early stopping).\n\n"
     << "| run | optimizer | lr | batch | init | best test accuracy | final test accuracy | "
        "epochs | time (s) | stopped |\n"
     << "|---|---|---|---|---|---|---|---|---|---|\n";
  for (size_t i = 0; i < plan.runs.size(); ++i) {
    const Run& run = plan.runs[i];
    const RunResult& r = results[i];
    md << "| " << run.name() << " | " << run.optimizer->label << " | " << number(run.lr) << " | "
       << run.batch_size << " | " << run.init << " | " << percent(r.best_test_accuracy)
       << (r.best_test_accuracy ? " (" + std::to_string(r.best_epoch) + ")" : "") << " | "
       << percent(r.final_test_accuracy) << " | " << r.epochs << " | " << std::setprecision(1)
       << r.seconds << " | " << r.stopped << " |\n";
  }
  md << "\n## Plots\n\n" << plots_note << "\n\n## Commands\n\n";
  for (size_t i = 0; i < plan.runs.size(); ++i)
    md << "- " << plan.runs[i].name() << ": `" << commands[i] << "`\n";
}

// ---- Plots ---------------------------------------------------------------------------------

// The Python that can run plot.py, or "" with the reason in `why`.
std::string find_python(const StudyConfig& c, std::string& why) {
  const std::vector<std::string> candidates =
      c.python.empty() ? std::vector<std::string>{"python3", "/usr/bin/python3"}
                       : std::vector<std::string>{c.python};
  for (const std::string& python : candidates)
    if (run_program({python, "-c", "import matplotlib"}, "/dev/null").code == 0) return python;
  why = "no Python with matplotlib (tried " + command_line(candidates) +
        "; on Debian: apt-get install python3-matplotlib)";
  return "";
}

// Draws each group's curves into DIR/plots/; returns the note summary.md gives on them.
std::string draw_plots(const StudyConfig& c, const Plan& plan,
                       const std::vector<RunResult>& results) {
  if (c.no_plots) return "No plots were asked for (--no-plots).";
  std::string why;
  if (!fs::exists(c.plot_script)) why = "no plot script at " + c.plot_script + " (see --plot)";
  const std::string python = why.empty() ? find_python(c, why) : "";
  if (python.empty()) {
    std::cout << "compare_optimizers: no plots: " << why << "\n";
    return "No plots were drawn: " + why + ".";
  }
  const fs::path plots = fs::path(c.out) / "plots";
  const std::string splits = c.validation > 0 ? "train,val" : "train,test";
  bool all_drawn = true;
  for (const Group& group : plan.groups) {
    std::vector<std::string> argv = {python,     c.plot_script, "--out",   plots.string(),
                                     "--prefix", group.prefix,  "--title", group.title,
                                     "--splits", splits};
    const size_t options = argv.size();
    for (size_t index : group.runs) {
      if (failed(results[index])) continue;
      argv.push_back((fs::path(c.out) / (plan.runs[index].name() + ".jsonl")).string());
    }
    if (argv.size() == options) continue;  // every run of the group failed: nothing to draw
    const ExitStatus status = run_program(argv, "");
    all_drawn = all_drawn && status.code == 0;
  }
  const std::string curves = c.validation > 0 ? "training (dotted) and validation (solid)"
                                              : "training (dotted) and test (dashed)";
  std::string note = "In plots/: " + curves +
                     " accuracy and loss against epoch (`*-epoch.png`) and training time "
                     "(`*-time.png`), and the learning rate of each step (`*-lr-step.png`), for:\n";
  for (const Group& group : plan.groups) note += "\n- `" + group.prefix + "-*`: " + group.title;
  if (!all_drawn) note += "\n\nplot.py failed on some of them; its messages went to the console.";
  return note;
}

// ---- The study -----------------------------------------------------------------------------

std::string beside_this_program(const std::string& name) {
  std::error_code error;
  const fs::path self = fs::read_symlink("/proc/self/exe", error);
  return error ? name : (self.parent_path() / name).string();
}

int run_study(StudyConfig& c) {
  if (c.train_program.empty()) c.train_program = beside_this_program("nabla-train");
  if (!fs::exists(c.train_program)) {
    std::cerr << "compare_optimizers: no nabla-train at " << c.train_program << " (see --train)\n";
    return 2;
  }
  fs::create_directories(c.out);
  const Plan plan = plan_study(c.quick);
  std::vector<RunResult> results;
  std::vector<std::string> commands;
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < plan.runs.size(); ++i) {
    const std::string name = plan.runs[i].name();
    const std::string log = (fs::path(c.out) / (name + ".jsonl")).string();
    const std::vector<std::string> args = train_arguments(c, plan.runs[i], log);
    std::vector<std::string> argv = {c.train_program};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> shown = {"nabla-train"};
    shown.insert(shown.end(), args.begin(), args.end());
    commands.push_back(command_line(shown));

    std::cout << "[" << i + 1 << "/" << plan.runs.size() << "] " << name << " ... " << std::flush;
    fs::remove(log);  // a log left by an earlier study must not pass for this run's
    const ExitStatus status = run_program(argv, (fs::path(c.out) / (name + ".txt")).string());
    results.push_back(read_result(log, status, name + ".txt"));
    const RunResult& r = results.back();
    std::printf("best test accuracy %s, epochs %ld, %.1f s, %s\n",
                percent(r.best_test_accuracy).c_str(), long(r.epochs), r.seconds,
                r.stopped.c_str());
    std::fflush(stdout);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string plots_note = draw_plots(c, plan, results);
  write_summary(c, plan, results, commands, seconds, plots_note);
  std::printf("%zu runs in %.1f minutes; summary: %s\n", plan.runs.size(), seconds / 60,
              (fs::path(c.out) / "summary.md").c_str());
  for (const RunResult& r : results)
    if (failed(r)) return 1;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  StudyConfig config;
  CLI::App app{
      "compare_optimizers: train one model with six optimizers, several learning rates, "
      "batch sizes and initializations; summarize and plot the runs"};
  add_flags(app, config);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "compare_optimizers: " << e.what() << " (see --help)\n";
    return 2;
  }
  if (config.quick && app.count("--epochs") == 0) config.epochs = kQuickEpochs;
  if (config.quick && app.count("--train-images") == 0) config.train_images = kQuickTrainImages;
  return run_study(config);
}
