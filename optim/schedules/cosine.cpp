// Cosine annealing, without and with warm restarts (SGDR).
#include <cmath>
#include <numbers>

#include "optim/schedules.h"

namespace nabla::optim {

namespace {
double cosine(double base, double eta_min, double done, double period) {
  return eta_min + (base - eta_min) * (1 + std::cos(std::numbers::pi * done / period)) / 2;
}
}  // namespace

void CosineAnnealingLR::Options::validate() const {
  NABLA_CHECK(t_max > 0, ValueError, "cosine: t_max must be > 0, got ", t_max);
  check_at_least("cosine", "eta_min", eta_min, 0);
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, Options options)
    : Schedule("cosine", optimizer), options_(std::move(options)) {
  options_.validate();
  apply();
}

double CosineAnnealingLR::lr_at(int64_t step, size_t group) const {
  return cosine(base_lr(group), options_.eta_min, static_cast<double>(step),
                static_cast<double>(options_.t_max));
}

void CosineAnnealingWarmRestarts::Options::validate() const {
  NABLA_CHECK(t_0 > 0, ValueError, "cosine_restarts: t_0 must be > 0, got ", t_0);
  NABLA_CHECK(t_mult >= 1, ValueError, "cosine_restarts: t_mult must be >= 1, got ", t_mult);
  check_at_least("cosine_restarts", "eta_min", eta_min, 0);
}

CosineAnnealingWarmRestarts::CosineAnnealingWarmRestarts(Optimizer& optimizer, Options options)
    : Schedule("cosine_restarts", optimizer), options_(std::move(options)) {
  options_.validate();
  apply();
}

double CosineAnnealingWarmRestarts::lr_at(int64_t step, size_t group) const {
  // Walk the periods t_0, t_0 t_mult, ... to the one holding `step` (a modulo when they are equal).
  int64_t period = options_.t_0;
  int64_t into = options_.t_mult == 1 ? step % period : step;
  while (into >= period) {
    into -= period;
    period *= options_.t_mult;
  }
  return cosine(base_lr(group), options_.eta_min, static_cast<double>(into),
                static_cast<double>(period));
}

}  // namespace nabla::optim
