// What a tuning run leaves in its output folder: every training run as a JSON line, the study's
// trials for tools/plot_study.py, and a markdown summary (with the Pareto front when there are
// several objectives).
#pragma once

#include <string>
#include <vector>

#include "hpo/study.h"
#include "objective.h"

namespace nabla::hpo_cifar10 {

struct RunLabel {
  std::string method{};
  uint64_t seed = 0;
};

void write_evaluations(const std::string& path, const RunLabel& label,
                       const std::vector<Evaluation>& evaluations);
void write_trials_json(const std::string& path, const hpo::Study& study);
// The study's outcome in markdown: trial counts, compute, and the best trial (one objective) or
// the Pareto front (several), with their parameters.
std::string summary_markdown(const hpo::Study& study, const RunLabel& label, double epochs_spent);

}  // namespace nabla::hpo_cifar10
