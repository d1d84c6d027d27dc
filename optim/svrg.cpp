// SVRG: snapshots of the weights and full gradient, and the variance-reduced mini-batch gradient.
#include "optim/svrg.h"

#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/inplace.h"
#include "core/ops.h"
#include "optim/registry.h"
#include "optim/state_dict.h"

namespace nabla::optim {

void Svrg::Options::validate() const {
  NABLA_CHECK(snapshot_every >= 0, ValueError, "svrg: snapshot_every must be >= 0, got ",
              snapshot_every);
  NABLA_CHECK(base != "svrg", ValueError, "svrg: base must be another optimizer, got 'svrg'");
}

Svrg::Svrg(Options options) : options_(std::move(options)) { options_.validate(); }

void Svrg::snapshot(Optimizer& optimizer, const Closure& full_loss) {
  const Closure& loss = full_loss ? full_loss : full_loss_;
  NABLA_CHECK(static_cast<bool>(loss), ValueError,
              "Svrg::snapshot: needs a closure over the dataset (or set_full_loss first)");
  optimizer.zero_grad();
  {
    GradModeGuard grad_on(true);
    loss();
  }
  snapshot_.clear();
  full_grad_.clear();
  for (const auto& [name, p] : optimizer.named_parameters()) {
    snapshot_.emplace(name, core::clone(p));
    if (p.grad().defined()) full_grad_.emplace(name, core::clone(p.grad()));
  }
  has_snapshot_ = true;
  since_snapshot_ = 0;
}

Tensor Svrg::gradients(Optimizer& optimizer, const Closure& closure) {
  bool due = options_.snapshot_every > 0 && since_snapshot_ >= options_.snapshot_every;
  if (!has_snapshot_ || due) snapshot(optimizer, full_loss_ ? full_loss_ : closure);

  Tensor loss = closure();
  NamedTensors params = optimizer.named_parameters();
  std::vector<Tensor> at_w;  // g_i(w); the next closure run replaces grad() rather than zeroing it
  for (const auto& [name, p] : params) at_w.push_back(p.grad());

  std::vector<Tensor> current;
  {
    NoGradGuard no_grad;
    for (const auto& [name, p] : params) {
      current.push_back(core::clone(p));
      auto s = snapshot_.find(name);
      if (s != snapshot_.end()) copy_(p, s->second);
    }
  }
  closure();  // g_i(w~), on the same batch

  NoGradGuard no_grad;
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& [name, p] = params[i];
    copy_(p, current[i]);
    if (!at_w[i].defined()) {
      p.set_grad(Tensor());
      continue;
    }
    Tensor g = at_w[i];
    if (p.grad().defined()) g = g - p.grad();
    if (auto mu = full_grad_.find(name); mu != full_grad_.end()) g = g + mu->second;
    p.set_grad(g);
  }
  ++since_snapshot_;
  return loss;
}

void Svrg::save(StateDict& dict) const {
  dict.json["oracle"]["has_snapshot"] = has_snapshot_;
  dict.json["oracle"]["steps_since_snapshot"] = since_snapshot_;
  for (const auto& [name, t] : snapshot_)
    dict.tensors.emplace_back(name + ".svrg_snapshot", core::clone(t));
  for (const auto& [name, t] : full_grad_)
    dict.tensors.emplace_back(name + ".svrg_full_grad", core::clone(t));
}

void Svrg::load(const StateDict& dict) {
  const nlohmann::json& j = dict.json["oracle"];
  has_snapshot_ = j.value("has_snapshot", false);
  since_snapshot_ = j.value("steps_since_snapshot", int64_t{0});
  snapshot_.clear();
  full_grad_.clear();
  const std::string snapshot_suffix = ".svrg_snapshot", grad_suffix = ".svrg_full_grad";
  for (const auto& [key, t] : dict.tensors) {
    if (key.ends_with(snapshot_suffix))
      snapshot_.emplace(key.substr(0, key.size() - snapshot_suffix.size()), core::clone(t));
    else if (key.ends_with(grad_suffix))
      full_grad_.emplace(key.substr(0, key.size() - grad_suffix.size()), core::clone(t));
  }
}

void Svrg::to(Device device) {
  for (auto& [name, t] : snapshot_) t = core::to(t, device);
  for (auto& [name, t] : full_grad_) t = core::to(t, device);
}

Svrg& svrg_oracle(Optimizer& optimizer) {
  auto* svrg = dynamic_cast<Svrg*>(optimizer.oracle());
  NABLA_CHECK(svrg != nullptr, ValueError, "svrg_oracle: optimizer '", optimizer.name(),
              "' has no SVRG oracle");
  return *svrg;
}

void register_svrg(OptimizerRegistry& registry) {
  register_oracle(registry, "svrg", "stochastic variance-reduced gradient around any optimizer",
                  Family::gradient, option_specs<Svrg::Options>(), [](const OptionMap& options) {
                    return std::make_unique<Svrg>(read_options<Svrg::Options>(options));
                  });
}

}  // namespace nabla::optim
