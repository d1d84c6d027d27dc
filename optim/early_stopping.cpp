// Early stopping with patience, min_delta and the best weights kept for restoring.
#include "optim/early_stopping.h"

#include "autograd/grad_mode.h"
#include "autograd/ops/inplace.h"
#include "core/ops.h"
#include "optim/state_dict.h"

namespace nabla::optim {

void EarlyStopping::Options::validate() const {
  NABLA_CHECK(patience >= 0, ValueError, "EarlyStopping: patience must be >= 0, got ", patience);
  check_at_least("EarlyStopping", "min_delta", min_delta, 0);
  check_one_of("EarlyStopping", "mode", mode, {"min", "max"});
}

EarlyStopping::EarlyStopping() : EarlyStopping(Options{}) {}

EarlyStopping::EarlyStopping(Options options) : options_(std::move(options)) {
  options_.validate();
}

bool EarlyStopping::step(double metric, const NamedTensors& params) {
  ++steps_;
  bool improved = !best_ || (options_.mode == "min" ? metric < *best_ - options_.min_delta
                                                    : metric > *best_ + options_.min_delta);
  if (improved) {
    best_ = metric;
    best_step_ = steps_;
    bad_steps_ = 0;
    if (options_.restore_best_weights) {
      best_weights_.clear();
      for (const auto& [name, p] : params) best_weights_.emplace_back(name, core::clone(p));
    }
  } else {
    ++bad_steps_;
  }
  return should_stop();
}

bool EarlyStopping::restore_best(const NamedTensors& params) const {
  if (best_weights_.empty()) return false;
  NoGradGuard no_grad;
  for (const auto& [name, p] : params) {
    for (const auto& [kept, t] : best_weights_) {
      if (kept != name) continue;
      NABLA_CHECK(t.shape() == p.shape(), ShapeError, "EarlyStopping::restore_best: '", name,
                  "' has shape ", p.shape(), " but the kept weights have ", t.shape());
      copy_(p, t);
    }
  }
  return true;
}

StateDict EarlyStopping::state_dict() const {
  StateDict dict;
  dict.json = {{"best", best_ ? nlohmann::json(*best_) : nlohmann::json(nullptr)},
               {"steps", steps_},
               {"best_step", best_step_},
               {"bad_steps", bad_steps_}};
  for (const auto& [name, t] : best_weights_)
    dict.tensors.emplace_back("best." + name, core::clone(t));
  return dict;
}

void EarlyStopping::load_state_dict(const StateDict& dict) {
  const nlohmann::json& j = dict.json;
  best_ = j.at("best").is_null() ? std::nullopt : std::optional(j["best"].get<double>());
  steps_ = j.at("steps").get<int64_t>();
  best_step_ = j.at("best_step").get<int64_t>();
  bad_steps_ = j.at("bad_steps").get<int64_t>();
  best_weights_.clear();
  for (const auto& [key, t] : dict.tensors)
    if (key.starts_with("best.")) best_weights_.emplace_back(key.substr(5), core::clone(t));
}

}  // namespace nabla::optim
