// ReduceLROnPlateau: reduces the learning rate when a metric stops improving.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "optim/schedules.h"

namespace nabla::optim {

void ReduceLROnPlateau::Options::validate() const {
  check_one_of("plateau", "mode", mode, {"min", "max"});
  NABLA_CHECK(factor >= 0 && factor < 1, ValueError, "plateau: factor must be in [0, 1), got ",
              factor);
  NABLA_CHECK(patience >= 0, ValueError, "plateau: patience must be >= 0, got ", patience);
  check_at_least("plateau", "threshold", threshold, 0);
  check_one_of("plateau", "threshold_mode", threshold_mode, {"rel", "abs"});
  NABLA_CHECK(cooldown >= 0, ValueError, "plateau: cooldown must be >= 0, got ", cooldown);
  check_at_least("plateau", "min_lr", min_lr, 0);
  check_at_least("plateau", "eps", eps, 0);
}

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, Options options)
    : Schedule("plateau", optimizer), options_(std::move(options)) {
  options_.validate();
  lrs_ = base_lrs();
  apply();
}

double ReduceLROnPlateau::lr_at(int64_t, size_t group) const {
  return group < lrs_.size() ? lrs_[group] : base_lr(group);
}

bool ReduceLROnPlateau::is_better(double value) const {
  if (!best_) return true;
  double best = *best_;
  bool rel = options_.threshold_mode == "rel";
  if (options_.mode == "min")
    return value < (rel ? best * (1 - options_.threshold) : best - options_.threshold);
  return value > (rel ? best * (1 + options_.threshold) : best + options_.threshold);
}

void ReduceLROnPlateau::observe(double metric) {
  if (is_better(metric)) {
    best_ = metric;
    bad_steps_ = 0;
  } else {
    ++bad_steps_;
  }
  if (cooldown_counter_ > 0) {  // bad steps during the cooldown do not count
    --cooldown_counter_;
    bad_steps_ = 0;
  }
  if (bad_steps_ > options_.patience) {
    for (size_t g = 0; g < base_lrs().size(); ++g) {
      if (g >= lrs_.size()) lrs_.push_back(base_lr(g));
      double reduced = std::max(lrs_[g] * options_.factor, options_.min_lr);
      if (lrs_[g] - reduced > options_.eps) lrs_[g] = reduced;
    }
    cooldown_counter_ = options_.cooldown;
    bad_steps_ = 0;
  }
}

nlohmann::json ReduceLROnPlateau::extra_state() const {
  // No best yet is null: a checkpoint's JSON cannot hold infinity.
  return {{"lrs", lrs_},
          {"best", best_ ? nlohmann::json(*best_) : nlohmann::json(nullptr)},
          {"bad_steps", bad_steps_},
          {"cooldown_counter", cooldown_counter_}};
}

void ReduceLROnPlateau::load_extra_state(const nlohmann::json& state) {
  lrs_ = state.at("lrs").get<std::vector<double>>();
  best_ = state.at("best").is_null() ? std::nullopt : std::optional(state["best"].get<double>());
  bad_steps_ = state.at("bad_steps").get<int64_t>();
  cooldown_counter_ = state.at("cooldown_counter").get<int64_t>();
}

}  // namespace nabla::optim
