// Early stopping: stop when a validation metric has not improved for `patience` evaluations, and
// keep the best weights to restore.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>

#include "optim/options.h"
#include "optim/state.h"

namespace nabla::optim {

struct StateDict;

class EarlyStopping {
 public:
  struct Options {
    int64_t patience = 10;
    double min_delta = 0;
    std::string mode = "min";
    bool restore_best_weights = true;
    static auto fields() {
      return std::tuple{
          Field{"patience", &Options::patience, "evaluations without improvement before stopping"},
          Field{"min_delta", &Options::min_delta, "smaller changes are not improvements"},
          Field{"mode", &Options::mode, "min (a loss) or max (an accuracy)"},
          Field{"restore_best_weights", &Options::restore_best_weights,
                "keep a copy of the weights at the best metric"}};
    }
    void validate() const;
  };

  EarlyStopping();
  explicit EarlyStopping(Options options);
  // Records one evaluation. When it is the best so far and restore_best_weights is set, copies
  // `params`. Returns true once training should stop.
  bool step(double metric, const NamedTensors& params = {});
  bool should_stop() const { return bad_steps_ >= options_.patience; }
  std::optional<double> best() const { return best_; }
  // The evaluation (counting from 1) that gave the best metric; 0 before any.
  int64_t best_step() const { return best_step_; }
  int64_t bad_steps() const { return bad_steps_; }
  // Copies the kept weights back into `params`, by name; false when none were kept.
  bool restore_best(const NamedTensors& params) const;

  // The kept weights under "best.<name>", the counters in JSON.
  StateDict state_dict() const;
  void load_state_dict(const StateDict& dict);

 private:
  Options options_;
  std::optional<double> best_;
  int64_t steps_ = 0;
  int64_t best_step_ = 0;
  int64_t bad_steps_ = 0;
  NamedTensors best_weights_;
};

}  // namespace nabla::optim
