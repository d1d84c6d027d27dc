// Learning-rate schedules: the Schedule base that sets an optimizer's group learning rates step by
// step, linear warmup in front of any schedule, and the schedule registry.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "optim/optimizer.h"
#include "optim/options.h"

namespace nabla::optim {

// A schedule is a function of its step count (0 when created) and of each group's base learning
// rate (the group's lr when the schedule was created). step() advances it and writes the learning
// rate (and, for cyclic schedules, the momentum) into every group.
//
// A schedule sees skipped optimizer steps: if every optimizer step since its last step was skipped
// (non-finite gradients), step() holds instead of advancing and returns false, so a one-cycle or
// warmup schedule stays aligned with the updates that really happened.
//
// state_dict() holds everything a resumed run needs; construct the schedule as before over the
// restored optimizer, call load_state_dict(), and it continues where it stopped.
class Schedule {
 public:
  virtual ~Schedule() = default;
  Schedule(const Schedule&) = delete;
  Schedule& operator=(const Schedule&) = delete;

  const std::string& name() const { return name_; }
  bool step();
  // For schedules that follow a metric (ReduceLROnPlateau); the others ignore it.
  bool step(double metric);
  int64_t last_step() const { return last_step_; }
  int64_t held_steps() const { return held_steps_; }
  const std::vector<double>& base_lrs() const { return base_lrs_; }
  // The learning rate of every group now.
  std::vector<double> last_lr() const;

  // The learning rate group `group` gets at step `step`.
  virtual double lr_at(int64_t step, size_t group) const = 0;
  // The momentum (or Adam's beta1) it gets, for schedules that cycle it.
  virtual std::optional<double> momentum_at(int64_t step, size_t group) const;
  virtual bool needs_metric() const { return false; }

  nlohmann::json state_dict() const;
  void load_state_dict(const nlohmann::json& state);

 protected:
  Schedule(std::string name, Optimizer& optimizer);
  // Writes lr_at(last_step()) into the groups; each schedule's constructor ends with it.
  void apply();
  // Takes the metric of the step being made (before lr_at is asked for it).
  virtual void observe(double metric);
  // What a schedule keeps beyond its step count (the plateau's best value).
  virtual nlohmann::json extra_state() const;
  virtual void load_extra_state(const nlohmann::json& state);
  // The option cyclic schedules set: "momentum" if the optimizer has it, else "beta1", else "".
  std::string momentum_option() const;
  double base_lr(size_t group) const { return base_lrs_.at(group); }
  Optimizer& optimizer() const { return optimizer_; }

 private:
  // LinearWarmup passes the metric on to the schedule it wraps.
  friend class LinearWarmup;
  bool advance(std::optional<double> metric);

  std::string name_;
  Optimizer& optimizer_;
  std::vector<double> base_lrs_;
  int64_t last_step_ = 0;
  int64_t held_steps_ = 0;
  // The optimizer's step counters when this schedule last moved, to see skipped steps.
  int64_t seen_steps_ = 0;
  int64_t seen_skipped_ = 0;
};

// Linear warmup in front of any schedule: for the first `steps` steps the learning rate rises
// linearly from start_factor times the inner schedule's first learning rate to that rate; then the
// inner schedule runs from its own step 0 (PyTorch's SequentialLR of LinearLR and the schedule).
class LinearWarmup final : public Schedule {
 public:
  LinearWarmup(Optimizer& optimizer, std::unique_ptr<Schedule> inner, int64_t steps,
               double start_factor = 0.0);
  double lr_at(int64_t step, size_t group) const override;
  std::optional<double> momentum_at(int64_t step, size_t group) const override;
  bool needs_metric() const override { return inner_->needs_metric(); }

 protected:
  void observe(double metric) override;
  nlohmann::json extra_state() const override;
  void load_extra_state(const nlohmann::json& state) override;

 private:
  std::unique_ptr<Schedule> inner_;
  int64_t steps_;
  double start_factor_;
};

// ---- The schedule registry ----
using ScheduleFactory =
    std::function<std::unique_ptr<Schedule>(Optimizer& optimizer, const OptionMap& options)>;

struct ScheduleInfo {
  std::string name;
  std::string help;
  // Every schedule also takes warmup_steps and warmup_start_factor (a LinearWarmup in front).
  std::vector<OptionSpec> options;
  ScheduleFactory factory;  // options arrive complete and typed
};

std::vector<ScheduleInfo> registered_schedules();
// optim::create_schedule("cosine", *optimizer, {{"t_max", 100}, {"warmup_steps", 5}}); an
// unknown name or option is a ValueError listing the valid ones.
std::unique_ptr<Schedule> create_schedule(std::string_view name, Optimizer& optimizer,
                                          const OptionMap& options = {});

}  // namespace nabla::optim
