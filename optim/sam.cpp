// SAM: the closure at w and at the worst nearby weights w + e; the update uses the latter's
// gradient.
#include "optim/sam.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/inplace.h"
#include "autograd/ops/reduce.h"
#include "core/ops.h"
#include "optim/registry.h"
#include "optim/state_dict.h"

namespace nabla::optim {

void Sam::Options::validate() const {
  check_at_least("sam", "rho", rho, 0);
  NABLA_CHECK(base != "sam", ValueError, "sam: base must be another optimizer, got 'sam'");
}

Sam::Sam(Options options) : options_(std::move(options)) { options_.validate(); }

Tensor Sam::gradients(Optimizer& optimizer, const Closure& closure) {
  Tensor loss = closure();
  NamedTensors params;
  for (const auto& [name, p] : optimizer.named_parameters())
    if (p.grad().defined()) params.emplace_back(name, p);

  NoGradGuard no_grad;
  double squared = 0;
  for (const auto& [name, p] : params) {
    Tensor tg = options_.adaptive ? abs(p) * p.grad() : p.grad();
    squared += sum(tg * tg).item();
  }
  double norm = std::sqrt(squared);
  // A non-finite gradient is left for the driver to skip; a zero one has no ascent direction.
  if (!std::isfinite(norm) || norm == 0 || options_.rho == 0) return loss;

  std::vector<Tensor> saved;
  double scale = options_.rho / (norm + 1e-12);
  for (const auto& [name, p] : params) {
    saved.push_back(core::clone(p));
    Tensor e = options_.adaptive ? p * p * p.grad() : p.grad();
    add_(p, e, scale);
  }
  closure();
  // Copied back rather than subtracted, so the weights return bit for bit.
  for (size_t i = 0; i < params.size(); ++i) copy_(params[i].second, saved[i]);
  return loss;
}

void Sam::save(StateDict& dict) const {
  dict.json["oracle"]["rho"] = options_.rho;
  dict.json["oracle"]["adaptive"] = options_.adaptive;
}

void register_sam(OptimizerRegistry& registry) {
  register_oracle(registry, "sam", "sharpness-aware minimization around any base optimizer",
                  Family::gradient, option_specs<Sam::Options>(), [](const OptionMap& options) {
                    return std::make_unique<Sam>(read_options<Sam::Options>(options));
                  });
}

}  // namespace nabla::optim
