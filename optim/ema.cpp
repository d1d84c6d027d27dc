// Exponential moving average of weights, with optional warmup of the decay.
#include "optim/ema.h"

#include <algorithm>

#include "autograd/grad_mode.h"
#include "autograd/ops/inplace.h"
#include "core/ops.h"
#include "optim/state_dict.h"

namespace nabla::optim {

void ExponentialMovingAverage::Options::validate() const {
  NABLA_CHECK(decay >= 0 && decay <= 1, ValueError,
              "ExponentialMovingAverage: decay must be in [0, 1], got ", decay);
}

ExponentialMovingAverage::ExponentialMovingAverage(NamedTensors params)
    : ExponentialMovingAverage(std::move(params), Options{}) {}

ExponentialMovingAverage::ExponentialMovingAverage(NamedTensors params, Options options)
    : options_(options), params_(std::move(params)) {
  options_.validate();
  for (const auto& [name, p] : params_) averages_.emplace_back(name, core::clone(p));
}

double ExponentialMovingAverage::decay() const {
  if (!options_.warmup) return options_.decay;
  auto n = static_cast<double>(updates_ + 1);
  return std::min(options_.decay, (1 + n) / (10 + n));
}

void ExponentialMovingAverage::update() {
  NABLA_CHECK(kept_.empty(), ValueError,
              "ExponentialMovingAverage::update: the averages are applied; restore() first");
  double d = decay();
  NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i].second;
    const Tensor& average = averages_[i].second;
    if (!is_floating(p.dtype())) {
      copy_(average, p);
      continue;
    }
    mul_(average, d);  // average = d * average + (1 - d) * p
    add_(average, p, 1 - d);
  }
  ++updates_;
}

void ExponentialMovingAverage::apply() {
  NABLA_CHECK(kept_.empty(), ValueError, "ExponentialMovingAverage::apply: already applied");
  NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    kept_.push_back(core::clone(params_[i].second));
    copy_(params_[i].second, averages_[i].second);
  }
}

void ExponentialMovingAverage::restore() {
  NABLA_CHECK(!kept_.empty() || params_.empty(), ValueError,
              "ExponentialMovingAverage::restore: nothing to restore; apply() first");
  NoGradGuard no_grad;
  for (size_t i = 0; i < kept_.size(); ++i) copy_(params_[i].second, kept_[i]);
  kept_.clear();
}

StateDict ExponentialMovingAverage::state_dict() const {
  StateDict dict;
  dict.json = {{"updates", updates_}, {"decay", options_.decay}, {"warmup", options_.warmup}};
  for (const auto& [name, t] : averages_) dict.tensors.emplace_back("ema." + name, core::clone(t));
  return dict;
}

void ExponentialMovingAverage::load_state_dict(const StateDict& dict) {
  updates_ = dict.json.at("updates").get<int64_t>();
  NoGradGuard no_grad;
  for (auto& [name, average] : averages_) {
    Tensor saved = dict.tensor("ema." + name);
    NABLA_CHECK(saved.defined(), ValueError,
                "ExponentialMovingAverage::load_state_dict: no average for '", name, "'");
    NABLA_CHECK(saved.shape() == average.shape(), ShapeError,
                "ExponentialMovingAverage::load_state_dict: '", name, "' has shape ",
                average.shape(), " but the saved average has ", saved.shape());
    copy_(average, saved);
  }
}

}  // namespace nabla::optim
