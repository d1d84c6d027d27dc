// An objective that runs a command per trial (nabla-hpo worker). The command gets the trial's
// parameters and speaks a line protocol on its standard output:
//   nabla-hpo report STEP VALUE [VALUE...]   an intermediate value (the pruner may stop the run)
//   nabla-hpo value VALUE [VALUE...]         the final value(s), one per objective
// Parameters reach it three ways: {name} in its arguments is replaced by the value ({trial} by
// the trial number, {params} by all of them as JSON), and the environment holds
// NABLA_HPO_PARAMS (JSON), NABLA_HPO_TRIAL and NABLA_HPO_STUDY.
#pragma once

#include <string>
#include <vector>

#include "hpo/space_file.h"
#include "hpo/study.h"

namespace nabla::hpo_cli {

struct CommandObjective {
  std::vector<std::string> command;
  std::vector<hpo::ParamSpec> space;
  std::string study_name;
  bool echo = false;  // copy the command's other output lines to ours

  // Runs the command for `trial`. A non-zero exit or a missing value line is an error (the trial
  // fails with it); a pruned trial has its command stopped (SIGTERM, then SIGKILL).
  std::vector<double> operator()(hpo::Trial& trial) const;
};

// The values of one protocol line after its keyword ("0.5 0.25" -> {0.5, 0.25}); a malformed
// number is an error naming the line.
std::vector<double> parse_values(const std::string& text, const std::string& line);

}  // namespace nabla::hpo_cli
