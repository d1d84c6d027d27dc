// The Schedule base (stepping, holding on skipped steps, state), linear warmup, and the schedule
// registry.
#include "optim/schedule.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "optim/schedules.h"

namespace nabla::optim {

using nlohmann::json;

Schedule::Schedule(std::string name, Optimizer& optimizer)
    : name_(std::move(name)),
      optimizer_(optimizer),
      seen_steps_(optimizer.steps()),
      seen_skipped_(optimizer.skipped_steps()) {
  for (size_t g = 0; g < optimizer.param_groups().size(); ++g) base_lrs_.push_back(optimizer.lr(g));
}

bool Schedule::step() {
  NABLA_CHECK(!needs_metric(), ValueError, name_, ": step() needs the metric: call step(metric)");
  return advance(std::nullopt);
}

bool Schedule::step(double metric) { return advance(metric); }

bool Schedule::advance(std::optional<double> metric) {
  bool held = optimizer_.steps() == seen_steps_ && optimizer_.skipped_steps() > seen_skipped_;
  seen_steps_ = optimizer_.steps();
  seen_skipped_ = optimizer_.skipped_steps();
  if (held) {
    ++held_steps_;
    return false;
  }
  ++last_step_;
  if (metric) observe(*metric);
  apply();
  return true;
}

void Schedule::apply() {
  // A group added to the optimizer after the schedule was made starts from its own lr.
  for (size_t g = base_lrs_.size(); g < optimizer_.param_groups().size(); ++g)
    base_lrs_.push_back(optimizer_.lr(g));
  for (size_t g = 0; g < optimizer_.param_groups().size(); ++g) {
    optimizer_.set_option(g, "lr", lr_at(last_step_, g));
    if (std::optional<double> momentum = momentum_at(last_step_, g))
      optimizer_.set_option(g, momentum_option(), *momentum);
  }
}

std::vector<double> Schedule::last_lr() const {
  std::vector<double> lrs;
  for (size_t g = 0; g < optimizer_.param_groups().size(); ++g) lrs.push_back(optimizer_.lr(g));
  return lrs;
}

std::optional<double> Schedule::momentum_at(int64_t, size_t) const { return std::nullopt; }
void Schedule::observe(double) {}
json Schedule::extra_state() const { return json::object(); }
void Schedule::load_extra_state(const json&) {}

std::string Schedule::momentum_option() const {
  if (optimizer_.has_option("momentum")) return "momentum";
  if (optimizer_.has_option("beta1")) return "beta1";
  return "";
}

json Schedule::state_dict() const {
  return {{"schedule", name_},
          {"last_step", last_step_},
          {"held_steps", held_steps_},
          {"base_lrs", base_lrs_},
          {"optimizer_steps", seen_steps_},
          {"optimizer_skipped_steps", seen_skipped_},
          {"extra", extra_state()}};
}

void Schedule::load_state_dict(const json& state) {
  NABLA_CHECK(state.is_object() && state.contains("schedule") && state.contains("last_step"),
              ValueError, name_, ": load_state_dict: not a schedule state");
  std::string saved = state["schedule"].get<std::string>();
  NABLA_CHECK(saved == name_, ValueError, name_, ": load_state_dict: the state is of '", saved,
              "'");
  last_step_ = state["last_step"].get<int64_t>();
  held_steps_ = state.value("held_steps", int64_t{0});
  base_lrs_ = state["base_lrs"].get<std::vector<double>>();
  seen_steps_ = state.value("optimizer_steps", int64_t{0});
  seen_skipped_ = state.value("optimizer_skipped_steps", int64_t{0});
  load_extra_state(state.value("extra", json::object()));
  apply();
}

// ---- LinearWarmup ----

LinearWarmup::LinearWarmup(Optimizer& optimizer, std::unique_ptr<Schedule> inner, int64_t steps,
                           double start_factor)
    : Schedule("warmup(" + (inner ? inner->name() : std::string()) + ")", optimizer),
      inner_(std::move(inner)),
      steps_(steps),
      start_factor_(start_factor) {
  NABLA_CHECK(inner_ != nullptr, ValueError, "LinearWarmup: needs a schedule to warm up into");
  NABLA_CHECK(steps_ >= 0, ValueError, "LinearWarmup: steps must be >= 0, got ", steps_);
  NABLA_CHECK(start_factor_ >= 0 && start_factor_ <= 1, ValueError,
              "LinearWarmup: start_factor must be in [0, 1], got ", start_factor_);
  apply();
}

double LinearWarmup::lr_at(int64_t step, size_t group) const {
  if (step >= steps_) return inner_->lr_at(step - steps_, group);
  double fraction = static_cast<double>(step) / static_cast<double>(steps_);
  return inner_->lr_at(0, group) * (start_factor_ + (1 - start_factor_) * fraction);
}

std::optional<double> LinearWarmup::momentum_at(int64_t step, size_t group) const {
  return inner_->momentum_at(std::max<int64_t>(step - steps_, 0), group);
}

void LinearWarmup::observe(double metric) {
  // The inner schedule's metric history starts with its first step, after the warmup.
  if (last_step() > steps_) inner_->observe(metric);
}

json LinearWarmup::extra_state() const { return inner_->state_dict(); }

void LinearWarmup::load_extra_state(const json& state) { inner_->load_state_dict(state); }

// ---- The registry ----

namespace {

std::vector<OptionSpec> warmup_specs() {
  return {{"warmup_steps", OptionType::integer, int64_t{0},
           "steps of linear warmup in front of the schedule (0: none)"},
          {"warmup_start_factor", OptionType::real, 0.0,
           "the warmup starts at this fraction of the schedule's first lr"}};
}

template <class S>
ScheduleInfo schedule_info(std::string name, std::string help) {
  std::vector<OptionSpec> specs = option_specs<typename S::Options>();
  for (OptionSpec& spec : warmup_specs()) specs.push_back(std::move(spec));
  return {std::move(name), std::move(help), std::move(specs),
          [](Optimizer& optimizer, const OptionMap& options) -> std::unique_ptr<Schedule> {
            auto schedule =
                std::make_unique<S>(optimizer, read_options<typename S::Options>(options));
            int64_t warmup = options.at("warmup_steps").integer();
            if (warmup == 0) return schedule;
            return std::make_unique<LinearWarmup>(optimizer, std::move(schedule), warmup,
                                                  options.at("warmup_start_factor").real());
          }};
}

}  // namespace

std::vector<ScheduleInfo> registered_schedules() {
  return {
      schedule_info<FixedLR>("fixed", "keeps the lr (with warmup_steps: warmup only)"),
      schedule_info<StepLR>("step", "decays by gamma every step_size steps"),
      schedule_info<MultiStepLR>("multistep", "decays by gamma at each milestone"),
      schedule_info<ExponentialLR>("exponential", "decays by gamma every step"),
      schedule_info<PolynomialLR>("polynomial", "polynomial decay to 0 over total_iters"),
      schedule_info<CosineAnnealingLR>("cosine", "cosine annealing to eta_min over t_max"),
      schedule_info<CosineAnnealingWarmRestarts>("cosine_restarts",
                                                 "cosine annealing with warm restarts (SGDR)"),
      schedule_info<CyclicLR>("cyclic", "cyclical learning rates between base_lr and max_lr"),
      schedule_info<OneCycleLR>("one_cycle", "the 1cycle policy"),
      schedule_info<ReduceLROnPlateau>("plateau", "reduces the lr when a metric stops improving"),
  };
}

std::unique_ptr<Schedule> create_schedule(std::string_view name, Optimizer& optimizer,
                                          const OptionMap& options) {
  std::vector<ScheduleInfo> schedules = registered_schedules();
  auto it = std::find_if(schedules.begin(), schedules.end(),
                         [&](const ScheduleInfo& s) { return s.name == name; });
  if (it == schedules.end()) {
    std::string names;
    for (const ScheduleInfo& s : schedules) names += (names.empty() ? "" : ", ") + s.name;
    throw ValueError(detail::concat("optim::create_schedule: unknown schedule '", name,
                                    "'; registered schedules: ", names));
  }
  return it->factory(optimizer, resolve_options(it->name, it->options, options));
}

}  // namespace nabla::optim
