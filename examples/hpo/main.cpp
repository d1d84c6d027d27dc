// nabla-hpo: studies kept in a database, worked on by any number of processes.
//   nabla-hpo create --storage sqlite:///runs.db --study lr --space space.json -- ./train.sh {lr}
//   nabla-hpo worker --storage sqlite:///runs.db --study lr --n-trials 20   (in as many shells)
//   nabla-hpo status | best | export | plot | enqueue --storage ... --study lr
// The study's definition (space, sampler, pruner, command, heartbeat) is stored with it, so a
// worker needs only the storage and the study's name. command_objective.h has the protocol.
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

#include <CLI/CLI.hpp>

#include "command_objective.h"
#include "core/error.h"
#include "hpo/export.h"
#include "hpo/factory.h"
#include "hpo/storages.h"
#include "hpo/study.h"

using namespace nabla;

namespace {

constexpr int kExitUsage = 2;
constexpr const char* kDefinitionKey = "nabla_hpo";

struct Options {
  std::string storage, study;
  // create
  std::vector<std::string> directions = {"minimize"};
  std::string space_file, sampler = "tpe", pruner = "none";
  std::vector<std::string> sampler_options, pruner_options;
  std::optional<uint64_t> seed;
  double heartbeat = 60, grace = 0;
  int max_retries = 0;
  bool load_if_exists = false;
  // worker
  std::optional<int64_t> n_trials;
  std::optional<double> timeout;
  int n_jobs = 1;
  bool echo = false;
  std::vector<std::string> command;
  // export, plot, best, enqueue
  std::string format = "csv", out, params, python = "python3";
  bool json = false;
};

// "key=value" pairs; a value is read as JSON when it parses (0.9, true, "text"), else as text.
nlohmann::json parse_pairs(const std::vector<std::string>& pairs, const std::string& flag) {
  nlohmann::json options = nlohmann::json::object();
  for (const auto& pair : pairs) {
    const auto eq = pair.find('=');
    NABLA_CHECK(eq != std::string::npos && eq > 0, ValueError, flag, ": expected key=value, got '",
                pair, "'");
    const std::string value = pair.substr(eq + 1);
    auto parsed = nlohmann::json::parse(value, nullptr, false);
    options[pair.substr(0, eq)] = parsed.is_discarded() ? nlohmann::json(value) : parsed;
  }
  return options;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  NABLA_CHECK(in, IOError, "cannot read '", path, "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The study's stored definition, and the study built from it.
struct Loaded {
  hpo::Study study;
  nlohmann::json definition;
};

// Reading commands (status, best, export, plot) also take studies that programs created in
// process, such as hpo_cifar10's; running trials needs the definition nabla-hpo create stores.
Loaded load(const Options& o, bool needs_definition = false) {
  auto storage = hpo::open_storage(o.storage);
  auto id = storage->find_study(o.study);
  NABLA_CHECK(id, ValueError, "no study named '", o.study, "' in ", o.storage,
              " (create it with nabla-hpo create)");
  const auto info = storage->study(*id);
  if (!info.system_attrs.contains(kDefinitionKey)) {
    NABLA_CHECK(!needs_definition, ValueError, "study '", o.study,
                "' was not created by nabla-hpo: it has no stored definition");
    return {hpo::load_study({.name = o.study, .storage = storage}), nlohmann::json::object()};
  }
  const nlohmann::json definition = info.system_attrs[kDefinitionKey];
  const auto& sampler = definition["sampler"];
  const auto& pruner = definition["pruner"];
  std::optional<uint64_t> seed;
  if (!sampler["seed"].is_null()) seed = sampler["seed"].get<uint64_t>();
  hpo::Study study =
      hpo::load_study({.name = o.study,
                       .storage = storage,
                       .sampler = hpo::make_sampler(sampler["name"], sampler["options"], seed),
                       .pruner = hpo::make_pruner(pruner["name"], pruner["options"]),
                       .heartbeat_interval = definition.value("heartbeat", 0.0),
                       .grace_period = definition.value("grace", 0.0),
                       .max_retries = definition.value("max_retries", 0)});
  return {std::move(study), definition};
}

int create(const Options& o) {
  std::vector<hpo::Direction> directions;
  for (const auto& d : o.directions) directions.push_back(hpo::direction_from_name(d));
  nlohmann::json definition = {
      {"sampler",
       {{"name", o.sampler},
        {"options", parse_pairs(o.sampler_options, "--sampler-opt")},
        {"seed", o.seed ? nlohmann::json(*o.seed) : nlohmann::json()}}},
      {"pruner", {{"name", o.pruner}, {"options", parse_pairs(o.pruner_options, "--pruner-opt")}}},
      {"command", o.command},
      {"heartbeat", o.heartbeat},
      {"grace", o.grace},
      {"max_retries", o.max_retries}};
  if (!o.space_file.empty()) {
    const std::string text = read_file(o.space_file);
    nlohmann::ordered_json document;
    try {
      document = nlohmann::ordered_json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      throw ValueError("--space " + o.space_file + ": not JSON: " + e.what());
    }
    hpo::parse_search_space(document);      // refuse a bad file now, not in every worker
    definition["space"] = document.dump();  // kept as text: the parameters' order matters
  }
  // Build them once so a bad name or option fails here.
  hpo::make_sampler(o.sampler, definition["sampler"]["options"], o.seed);
  hpo::make_pruner(o.pruner, definition["pruner"]["options"]);
  auto storage = hpo::open_storage(o.storage);
  hpo::Study study = hpo::create_study({.name = o.study,
                                        .storage = storage,
                                        .directions = directions,
                                        .load_if_exists = o.load_if_exists,
                                        .heartbeat_interval = o.heartbeat,
                                        .grace_period = o.grace,
                                        .max_retries = o.max_retries});
  storage->set_study_system_attr(study.id(), kDefinitionKey, definition);
  std::cout << "created study '" << o.study << "' in " << o.storage << "\n";
  return 0;
}

int worker(const Options& o) {
  Loaded loaded = load(o, /*needs_definition=*/true);
  NABLA_CHECK(loaded.definition.contains("space"), ValueError, "study '", o.study,
              "' has no search space: create it with --space FILE");
  hpo_cli::CommandObjective objective;
  objective.command =
      o.command.empty() ? loaded.definition["command"].get<std::vector<std::string>>() : o.command;
  NABLA_CHECK(!objective.command.empty(), ValueError, "study '", o.study,
              "' has no command: give one after --");
  objective.space = hpo::parse_search_space(
      nlohmann::ordered_json::parse(loaded.definition["space"].get<std::string>()));
  objective.study_name = o.study;
  objective.echo = o.echo;
  int64_t done = 0;
  loaded.study.optimize(hpo::Study::MultiObjective(objective),
                        {.n_trials = o.n_trials,
                         .timeout = o.timeout,
                         .n_jobs = o.n_jobs,
                         .callbacks = {[&](hpo::Study&, const hpo::FrozenTrial& t) {
                           ++done;
                           std::cout << "trial " << t.number << " " << hpo::name(t.state);
                           for (double v : t.values) std::cout << " " << v;
                           if (t.state == hpo::TrialState::failed)
                             std::cout << ": " << t.system_attrs.value("fail_reason", "");
                           std::cout << std::endl;
                         }}});
  std::cout << "worker finished " << done << " trials\n";
  return 0;
}

int status(const Options& o) {
  Loaded loaded = load(o);
  std::map<std::string, int> counts;
  const auto trials = loaded.study.trials();
  for (const auto& t : trials) counts[hpo::name(t->state)]++;
  std::cout << "study '" << o.study << "': " << trials.size() << " trials";
  for (const auto& [state, n] : counts) std::cout << ", " << n << " " << state;
  std::cout << "\n";
  if (counts["complete"] > 0 && loaded.study.directions().size() == 1)
    std::cout << "best value: " << std::setprecision(10) << loaded.study.best_value() << " (trial "
              << loaded.study.best_trial()->number << ")\n";
  return 0;
}

void print_trial(const hpo::FrozenTrial& t) {
  std::cout << "trial " << t.number << ":";
  for (double v : t.values) std::cout << " " << std::setprecision(10) << v;
  std::cout << "\n";
  for (const auto& [name, value] : t.params)
    std::cout << "  " << name << " = " << hpo::to_string(value) << "\n";
}

int best(const Options& o) {
  Loaded loaded = load(o);
  std::vector<hpo::TrialPtr> best = loaded.study.directions().size() == 1
                                        ? std::vector<hpo::TrialPtr>{loaded.study.best_trial()}
                                        : loaded.study.best_trials();
  if (o.json) {
    nlohmann::json all = nlohmann::json::array();
    for (const auto& t : best) all.push_back(hpo::to_json(*t));
    std::cout << all.dump(2) << "\n";
    return 0;
  }
  for (const auto& t : best) print_trial(*t);
  return 0;
}

void write_export(const hpo::Study& study, const std::string& format, std::ostream& out) {
  const auto info = study.storage().study(study.id());
  const auto trials = study.trials();
  if (format == "csv")
    hpo::write_trials_csv(info, trials, out);
  else
    out << hpo::trials_to_json(info, trials).dump(2) << "\n";
}

int export_trials(const Options& o) {
  Loaded loaded = load(o);
  if (o.out.empty()) {
    write_export(loaded.study, o.format, std::cout);
    return 0;
  }
  std::ofstream out(o.out);
  NABLA_CHECK(out, IOError, "--out: cannot write '", o.out, "'");
  write_export(loaded.study, o.format, out);
  return 0;
}

int plot(const Options& o) {
  Loaded loaded = load(o);
  const std::string out = o.out.empty() ? "hpo-plots" : o.out;
  const std::string json_path = out + ".trials.json";
  {
    std::ofstream file(json_path);
    NABLA_CHECK(file, IOError, "plot: cannot write '", json_path, "'");
    write_export(loaded.study, "json", file);
  }
  const std::string command = "'" + o.python + "' '" + NABLA_PLOT_STUDY_SCRIPT + "' '" + json_path +
                              "' --out '" + out + "'";
  const int status = std::system(command.c_str());
  std::remove(json_path.c_str());
  NABLA_CHECK(status == 0, Error, "plot: tools/plot_study.py failed (status ", status, ")");
  return 0;
}

int enqueue(const Options& o) {
  Loaded loaded = load(o, /*needs_definition=*/true);
  auto parsed = nlohmann::json::parse(o.params, nullptr, false);
  NABLA_CHECK(parsed.is_object(), ValueError, "--params: expected a JSON object, got '", o.params,
              "'");
  std::map<std::string, hpo::ParamValue> params;
  for (const auto& [name, value] : parsed.items()) params[name] = hpo::param_value_from_json(value);
  loaded.study.enqueue_trial(params);
  std::cout << "enqueued " << parsed.dump() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"nabla-hpo: hyperparameter studies shared by any number of worker processes"};
  app.require_subcommand(1);
  auto common = [&](CLI::App* sub) {
    sub->add_option("--storage", o.storage,
                    "sqlite:///PATH.db, PATH.db, postgresql://... or memory")
        ->required();
    sub->add_option("--study", o.study, "the study's name")->required();
  };
  auto* create_cmd = app.add_subcommand("create", "create a study and store its definition");
  common(create_cmd);
  create_cmd->add_option("--direction", o.directions, "minimize or maximize, once per objective");
  create_cmd->add_option("--space", o.space_file, "the search space as JSON (hpo/space_file.h)")
      ->check(CLI::ExistingFile);
  create_cmd->add_option("--sampler", o.sampler, "the sampler's name")->capture_default_str();
  create_cmd->add_option("--sampler-opt", o.sampler_options, "a sampler option, key=value");
  create_cmd->add_option("--seed", o.seed, "the sampler's seed");
  create_cmd->add_option("--pruner", o.pruner, "the pruner's name")->capture_default_str();
  create_cmd->add_option("--pruner-opt", o.pruner_options, "a pruner option, key=value");
  create_cmd->add_option("--heartbeat", o.heartbeat, "seconds between heartbeats (0: off)")
      ->capture_default_str();
  create_cmd->add_option("--grace", o.grace, "seconds without a heartbeat before a trial fails");
  create_cmd->add_option("--max-retries", o.max_retries, "reruns of a trial whose worker died");
  create_cmd->add_flag("--load-if-exists", o.load_if_exists, "reuse a study of that name");
  create_cmd->add_option("command", o.command, "the command run per trial (after --)");

  auto* worker_cmd = app.add_subcommand("worker", "run trials of a study");
  common(worker_cmd);
  worker_cmd->add_option("--n-trials", o.n_trials, "trials this worker runs");
  worker_cmd->add_option("--timeout", o.timeout, "seconds after which no trial starts");
  worker_cmd->add_option("--n-jobs", o.n_jobs, "trials at once in this worker")
      ->check(CLI::PositiveNumber);
  worker_cmd->add_flag("--echo", o.echo, "show the command's other output");
  worker_cmd->add_option("command", o.command, "overrides the stored command (after --)");

  auto* status_cmd = app.add_subcommand("status", "trial counts by state and the best value");
  common(status_cmd);
  auto* best_cmd =
      app.add_subcommand("best", "the best trial (the Pareto front for several objectives)");
  common(best_cmd);
  best_cmd->add_flag("--json", o.json, "print JSON");
  auto* export_cmd = app.add_subcommand("export", "every trial as CSV or JSON");
  common(export_cmd);
  export_cmd->add_option("--format", o.format, "csv or json")
      ->check(CLI::IsMember({"csv", "json"}))
      ->capture_default_str();
  export_cmd->add_option("--out", o.out, "a file (default: standard output)");
  auto* plot_cmd =
      app.add_subcommand("plot", "history, parallel coordinates, importance, Pareto front");
  common(plot_cmd);
  plot_cmd->add_option("--out", o.out, "folder for the PNGs (default: hpo-plots)");
  plot_cmd->add_option("--python", o.python, "a Python with matplotlib")->capture_default_str();
  auto* enqueue_cmd = app.add_subcommand("enqueue", "run these parameters next");
  common(enqueue_cmd);
  enqueue_cmd->add_option("--params", o.params, "a JSON object of parameters")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "nabla-hpo: " << e.what() << " (see --help)\n";
    return kExitUsage;
  }
  try {
    if (create_cmd->parsed()) return create(o);
    if (worker_cmd->parsed()) return worker(o);
    if (status_cmd->parsed()) return status(o);
    if (best_cmd->parsed()) return best(o);
    if (export_cmd->parsed()) return export_trials(o);
    if (plot_cmd->parsed()) return plot(o);
    return enqueue(o);
  } catch (const Error& e) {
    std::cerr << "nabla-hpo: " << e.what() << "\n";
    return kExitUsage;
  }
}
