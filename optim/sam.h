// Sharpness-aware minimization (Foret et al., 2021) and its adaptive form ASAM (Kwon et al., 2021),
// as a gradient oracle in front of any optimizer: optim::create("sam", params, {{"base", "sgd"}}).
#pragma once

#include <memory>

#include "optim/optimizer.h"

namespace nabla::optim {

class Sam final : public GradientOracle {
 public:
  struct Options {
    double rho = 0.05;
    bool adaptive = false;
    std::string base = "sgd";

    static auto fields() {
      return std::tuple{
          Field{"rho", &Options::rho, "radius of the neighbourhood whose worst loss is minimized"},
          Field{"adaptive", &Options::adaptive, "scale the neighbourhood by |w| (ASAM)"},
          Field{"base", &Options::base, "the optimizer that steps with SAM's gradient"}};
    }
    void validate() const;
  };

  explicit Sam(Options options);
  std::string name() const override { return "sam"; }
  // Runs the closure at w, then at w + e with e = rho T^2 g / |T g| (T = |w| for ASAM, else 1,
  // the norm over every parameter), and leaves that second gradient for the base optimizer, which
  // steps from w. Two closure runs per step.
  Tensor gradients(Optimizer& optimizer, const Closure& closure) override;
  void save(StateDict& dict) const override;

 private:
  Options options_;
};

}  // namespace nabla::optim
