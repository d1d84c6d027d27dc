#include "report.h"

#include <algorithm>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>

#include "hpo/export.h"

namespace nabla::hpo_cifar10 {

namespace {

std::string param_text(const hpo::ParamValue& value) {
  std::ostringstream os;
  std::visit(
      [&os](const auto& v) {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, double>)
          os << std::setprecision(4) << v;
        else
          os << v;
      },
      value);
  return os.str();
}

std::string params_text(const hpo::FrozenTrial& trial) {
  std::string out;
  for (const auto& [name, value] : trial.params)
    out += (out.empty() ? "" : ", ") + name + "=" + param_text(value);
  return out;
}

std::ofstream open_for_writing(const std::string& path) {
  std::ofstream out(path);
  NABLA_CHECK(out.good(), IOError, "cannot write '", path, "'");
  return out;
}

}  // namespace

void write_evaluations(const std::string& path, const RunLabel& label,
                       const std::vector<Evaluation>& evaluations) {
  std::ofstream out = open_for_writing(path);
  for (const Evaluation& e : evaluations)
    out << nlohmann::json{{"method", label.method},
                          {"seed", label.seed},
                          {"trial", e.trial},
                          {"epochs", e.epochs},
                          {"val_accuracy", e.accuracy},
                          {"pruned", e.pruned},
                          {"epochs_so_far", e.epochs_so_far},
                          {"seconds_so_far", e.seconds_so_far}}
               .dump()
        << "\n";
}

void write_trials_json(const std::string& path, const hpo::Study& study) {
  std::ofstream out = open_for_writing(path);
  out << hpo::trials_to_json(study.storage().study(study.id()), study.trials()).dump(2) << "\n";
}

std::string summary_markdown(const hpo::Study& study, const RunLabel& label, double epochs_spent) {
  const std::vector<hpo::TrialPtr> trials = study.trials();
  std::map<hpo::TrialState, int64_t> counts;
  for (const hpo::TrialPtr& t : trials) ++counts[t->state];
  std::ostringstream os;
  os << std::fixed << std::setprecision(2);
  os << "# " << study.name() << ": " << label.method << ", seed " << label.seed << "\n\n"
     << trials.size() << " trials (" << counts[hpo::TrialState::complete] << " complete, "
     << counts[hpo::TrialState::pruned] << " pruned, " << counts[hpo::TrialState::failed]
     << " failed), " << epochs_spent << " training epochs.\n\n";
  if (study.directions().size() == 1) {
    const hpo::TrialPtr best = study.best_trial();
    os << "Best: trial " << best->number << ", validation accuracy " << best->value() << "%\n\n`"
       << params_text(*best) << "`\n";
    return os.str();
  }
  std::vector<hpo::TrialPtr> front = study.best_trials();
  std::sort(front.begin(), front.end(), [](const hpo::TrialPtr& a, const hpo::TrialPtr& b) {
    return a->values[0] > b->values[0];
  });
  os << "Pareto front (validation accuracy up; latency at batch 1 and parameters down):\n\n"
     << "| trial | val accuracy (%) | latency (ms) | parameters | configuration |\n"
     << "|---:|---:|---:|---:|---|\n";
  for (const hpo::TrialPtr& t : front)
    os << "| " << t->number << " | " << t->values[0] << " | " << std::setprecision(3)
       << t->values[1] << std::setprecision(2) << " | " << int64_t(t->values[2]) << " | "
       << params_text(*t) << " |\n";
  return os.str();
}

}  // namespace nabla::hpo_cifar10
