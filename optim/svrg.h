// Stochastic variance-reduced gradient (Johnson & Zhang, 2013) as a gradient oracle in front of
// any optimizer (plain SGD by default): optim::create("svrg", params, {{"lr", 0.1}}).
#pragma once

#include <map>
#include <string>

#include "optim/optimizer.h"

namespace nabla::optim {

// Keeps a snapshot w~ of the weights and the full gradient mu = grad F(w~) over the dataset; each
// step hands the base optimizer g_i(w) - g_i(w~) + mu, where g_i is the closure's mini-batch
// gradient (the closure runs at w and at w~, on the same batch: two runs per step).
class Svrg final : public GradientOracle {
 public:
  struct Options {
    int64_t snapshot_every = 0;
    std::string base = "sgd";

    static auto fields() {
      return std::tuple{
          Field{"snapshot_every", &Options::snapshot_every,
                "steps between snapshots (0: only the first step and snapshot())"},
          Field{"base", &Options::base, "the optimizer that steps with SVRG's gradient"}};
    }
    void validate() const;
  };

  explicit Svrg(Options options);
  std::string name() const override { return "svrg"; }

  // The closure that computes the loss and gradients over the whole dataset (averaged, as the
  // mini-batch closure is), for the snapshots this oracle takes by itself. Without one, the
  // step's own closure serves, which is right only for full-batch training.
  void set_full_loss(Closure full_loss) { full_loss_ = std::move(full_loss); }
  // Takes a snapshot now: w~ = w and mu from `full_loss` (or the one set above).
  void snapshot(Optimizer& optimizer, const Closure& full_loss = {});
  int64_t steps_since_snapshot() const { return since_snapshot_; }

  Tensor gradients(Optimizer& optimizer, const Closure& closure) override;
  void save(StateDict& dict) const override;
  void load(const StateDict& dict) override;
  void to(Device device) override;

 private:
  Options options_;
  Closure full_loss_;
  std::map<std::string, Tensor, std::less<>> snapshot_;   // w~ by parameter name
  std::map<std::string, Tensor, std::less<>> full_grad_;  // mu by parameter name
  bool has_snapshot_ = false;
  int64_t since_snapshot_ = 0;
};

// The SVRG oracle of `optimizer`; a ValueError when it has none.
Svrg& svrg_oracle(Optimizer& optimizer);

}  // namespace nabla::optim
