// Which reports a pruner judges: those past the warm-up, and in each interval of steps only the
// first one reported.
#pragma once

#include <cstdint>

#include "hpo/frozen_trial.h"

namespace nabla::hpo {

// Optuna's rule: intervals of `interval_steps` start at `n_warmup_steps`; the trial's last report
// (at `step`) is judged when the report before it lies below the start of step's interval, so a
// trial reporting at uneven steps is still judged once per interval.
inline bool is_first_in_interval(const FrozenTrial& trial, int64_t step, int64_t n_warmup_steps,
                                 int64_t interval_steps) {
  if (step < n_warmup_steps) return false;
  const int64_t interval_start =
      (step - n_warmup_steps) / interval_steps * interval_steps + n_warmup_steps;
  int64_t previous = -1;
  for (const auto& [s, values] : trial.intermediate_values)
    if (s < step) previous = s;
  return previous < interval_start;
}

}  // namespace nabla::hpo
