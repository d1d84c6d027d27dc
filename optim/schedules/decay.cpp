// Schedules that only decay: fixed, step, multistep, exponential and polynomial.
#include <algorithm>
#include <cmath>

#include "optim/schedules.h"

namespace nabla::optim {

FixedLR::FixedLR(Optimizer& optimizer, Options) : Schedule("fixed", optimizer) { apply(); }

double FixedLR::lr_at(int64_t, size_t group) const { return base_lr(group); }

void StepLR::Options::validate() const {
  NABLA_CHECK(step_size > 0, ValueError, "step: step_size must be > 0, got ", step_size);
  check_at_least("step", "gamma", gamma, 0);
}

StepLR::StepLR(Optimizer& optimizer, Options options)
    : Schedule("step", optimizer), options_(std::move(options)) {
  options_.validate();
  apply();
}

double StepLR::lr_at(int64_t step, size_t group) const {
  return base_lr(group) * std::pow(options_.gamma, static_cast<double>(step / options_.step_size));
}

void MultiStepLR::Options::validate() const {
  NABLA_CHECK(std::is_sorted(milestones.begin(), milestones.end()), ValueError,
              "multistep: milestones must be increasing");
  check_at_least("multistep", "gamma", gamma, 0);
}

MultiStepLR::MultiStepLR(Optimizer& optimizer, Options options)
    : Schedule("multistep", optimizer), options_(std::move(options)) {
  options_.validate();
  apply();
}

double MultiStepLR::lr_at(int64_t step, size_t group) const {
  auto passed = std::upper_bound(options_.milestones.begin(), options_.milestones.end(), step) -
                options_.milestones.begin();
  return base_lr(group) * std::pow(options_.gamma, static_cast<double>(passed));
}

void ExponentialLR::Options::validate() const { check_at_least("exponential", "gamma", gamma, 0); }

ExponentialLR::ExponentialLR(Optimizer& optimizer, Options options)
    : Schedule("exponential", optimizer), options_(std::move(options)) {
  options_.validate();
  apply();
}

double ExponentialLR::lr_at(int64_t step, size_t group) const {
  return base_lr(group) * std::pow(options_.gamma, static_cast<double>(step));
}

void PolynomialLR::Options::validate() const {
  NABLA_CHECK(total_iters > 0, ValueError, "polynomial: total_iters must be > 0, got ",
              total_iters);
  check_at_least("polynomial", "power", power, 0);
}

PolynomialLR::PolynomialLR(Optimizer& optimizer, Options options)
    : Schedule("polynomial", optimizer), options_(std::move(options)) {
  options_.validate();
  apply();
}

double PolynomialLR::lr_at(int64_t step, size_t group) const {
  double done = static_cast<double>(std::min(step, options_.total_iters)) /
                static_cast<double>(options_.total_iters);
  return base_lr(group) * std::pow(1 - done, options_.power);
}

}  // namespace nabla::optim
