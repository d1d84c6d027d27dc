// Cyclical schedules: CyclicLR's triangles and the 1cycle policy, with momentum cycled inversely.
#include <algorithm>
#include <cmath>
#include <numbers>

#include "optim/schedules.h"

namespace nabla::optim {

void CyclicLR::Options::validate() const {
  check_at_least("cyclic", "base_lr", base_lr, 0);
  NABLA_CHECK(step_size_up > 0, ValueError, "cyclic: step_size_up must be > 0, got ", step_size_up);
  NABLA_CHECK(step_size_down >= 0, ValueError, "cyclic: step_size_down must be >= 0, got ",
              step_size_down);
  check_one_of("cyclic", "mode", mode, {"triangular", "triangular2", "exp_range"});
  check_positive("cyclic", "gamma", gamma);
}

CyclicLR::CyclicLR(Optimizer& optimizer, Options options)
    : Schedule("cyclic", optimizer), options_(std::move(options)) {
  options_.validate();
  for (size_t g = 0; g < base_lrs().size(); ++g) {
    double low = options_.base_lr > 0 ? options_.base_lr : base_lr(g);
    NABLA_CHECK(options_.max_lr > low, ValueError, "cyclic: max_lr must be above base_lr (", low,
                " for group ", g, "), got ", options_.max_lr);
  }
  if (options_.cycle_momentum) momentum_option_ = momentum_option();
  apply();
}

double CyclicLR::height(int64_t step) const {
  auto t = static_cast<double>(step);
  double up = static_cast<double>(options_.step_size_up);
  double down = options_.step_size_down > 0 ? static_cast<double>(options_.step_size_down) : up;
  double total = up + down, ratio = up / total;
  double cycle = std::floor(1 + t / total);
  double x = 1 + t / total - cycle;  // position in the cycle, in [0, 1)
  double position = x <= ratio ? x / ratio : (x - 1) / (ratio - 1);
  if (options_.mode == "triangular2") return position / std::pow(2.0, cycle - 1);
  if (options_.mode == "exp_range") return position * std::pow(options_.gamma, t);
  return position;
}

double CyclicLR::lr_at(int64_t step, size_t group) const {
  double low = options_.base_lr > 0 ? options_.base_lr : base_lr(group);
  return low + (options_.max_lr - low) * height(step);
}

std::optional<double> CyclicLR::momentum_at(int64_t step, size_t) const {
  if (momentum_option_.empty()) return std::nullopt;
  return options_.max_momentum - (options_.max_momentum - options_.base_momentum) * height(step);
}

void OneCycleLR::Options::validate() const {
  check_at_least("one_cycle", "max_lr", max_lr, 0);
  NABLA_CHECK(total_steps > 0, ValueError, "one_cycle: total_steps must be > 0, got ", total_steps);
  NABLA_CHECK(pct_start >= 0 && pct_start <= 1, ValueError,
              "one_cycle: pct_start must be in [0, 1], got ", pct_start);
  check_one_of("one_cycle", "anneal_strategy", anneal_strategy, {"cos", "linear"});
  check_positive("one_cycle", "div_factor", div_factor);
  check_positive("one_cycle", "final_div_factor", final_div_factor);
}

OneCycleLR::OneCycleLR(Optimizer& optimizer, Options options)
    : Schedule("one_cycle", optimizer), options_(std::move(options)) {
  options_.validate();
  // Learning rates as fractions of max_lr: the start, the peak, the end.
  double start = 1 / options_.div_factor, peak = 1, end = start / options_.final_div_factor;
  double total = static_cast<double>(options_.total_steps), pct = options_.pct_start;
  double low = options_.base_momentum, high = options_.max_momentum;
  if (options_.three_phase) {
    phases_ = {{pct * total - 1, start, peak, high, low},
               {2 * pct * total - 2, peak, start, low, high},
               {total - 1, start, end, high, high}};
  } else {
    phases_ = {{pct * total - 1, start, peak, high, low}, {total - 1, peak, end, low, high}};
  }
  if (options_.cycle_momentum) momentum_option_ = momentum_option();
  apply();
}

double OneCycleLR::max_lr(size_t group) const {
  return options_.max_lr > 0 ? options_.max_lr : base_lr(group);
}

double OneCycleLR::anneal(double start, double end, double pct) const {
  if (options_.anneal_strategy == "linear") return (end - start) * pct + start;
  return end + (start - end) / 2.0 * (std::cos(std::numbers::pi * pct) + 1);
}

std::pair<const OneCycleLR::Phase*, double> OneCycleLR::locate(int64_t step) const {
  auto t = static_cast<double>(std::min(step, options_.total_steps - 1));
  double start = 0;
  for (size_t i = 0; i < phases_.size(); ++i) {
    const Phase& phase = phases_[i];
    if (t <= phase.end_step || i + 1 == phases_.size())
      return {&phase, (t - start) / (phase.end_step - start)};
    start = phase.end_step;
  }
  return {&phases_.back(), 1.0};
}

double OneCycleLR::lr_at(int64_t step, size_t group) const {
  auto [phase, pct] = locate(step);
  return anneal(phase->start_lr_factor, phase->end_lr_factor, pct) * max_lr(group);
}

std::optional<double> OneCycleLR::momentum_at(int64_t step, size_t) const {
  if (momentum_option_.empty()) return std::nullopt;
  auto [phase, pct] = locate(step);
  return anneal(phase->start_momentum, phase->end_momentum, pct);
}

}  // namespace nabla::optim
