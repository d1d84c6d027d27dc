// The learning-rate schedules, each with the semantics of its torch.optim.lr_scheduler namesake
// (PyTorch 1.13) in closed form; the step count t starts at 0 when the schedule is created.
#pragma once

#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "optim/schedule.h"

namespace nabla::optim {

// Keeps the base learning rate: a schedule to put a warmup in front of.
class FixedLR final : public Schedule {
 public:
  struct Options {
    static auto fields() { return std::tuple{}; }
    void validate() const {}
  };
  FixedLR(Optimizer& optimizer, Options options = {});
  double lr_at(int64_t step, size_t group) const override;
};

// base * gamma^floor(t / step_size).
class StepLR final : public Schedule {
 public:
  struct Options {
    int64_t step_size = 30;
    double gamma = 0.1;
    static auto fields() {
      return std::tuple{Field{"step_size", &Options::step_size, "steps between decays"},
                        Field{"gamma", &Options::gamma, "factor of each decay"}};
    }
    void validate() const;
  };
  StepLR(Optimizer& optimizer, Options options);
  double lr_at(int64_t step, size_t group) const override;

 private:
  Options options_;
};

// base * gamma^(number of milestones <= t).
class MultiStepLR final : public Schedule {
 public:
  struct Options {
    std::vector<int64_t> milestones = {30, 60, 90};
    double gamma = 0.1;
    static auto fields() {
      return std::tuple{Field{"milestones", &Options::milestones, "steps at which to decay"},
                        Field{"gamma", &Options::gamma, "factor of each decay"}};
    }
    void validate() const;
  };
  MultiStepLR(Optimizer& optimizer, Options options);
  double lr_at(int64_t step, size_t group) const override;

 private:
  Options options_;
};

// base * gamma^t.
class ExponentialLR final : public Schedule {
 public:
  struct Options {
    double gamma = 0.95;
    static auto fields() {
      return std::tuple{Field{"gamma", &Options::gamma, "factor of each step's decay"}};
    }
    void validate() const;
  };
  ExponentialLR(Optimizer& optimizer, Options options);
  double lr_at(int64_t step, size_t group) const override;

 private:
  Options options_;
};

// base * (1 - min(t, total_iters) / total_iters)^power.
class PolynomialLR final : public Schedule {
 public:
  struct Options {
    int64_t total_iters = 5;
    double power = 1.0;
    static auto fields() {
      return std::tuple{Field{"total_iters", &Options::total_iters, "steps until the lr is 0"},
                        Field{"power", &Options::power, "the polynomial's power"}};
    }
    void validate() const;
  };
  PolynomialLR(Optimizer& optimizer, Options options);
  double lr_at(int64_t step, size_t group) const override;

 private:
  Options options_;
};

// eta_min + (base - eta_min) (1 + cos(pi t / t_max)) / 2 (SGDR without restarts; past t_max the
// cosine goes on, back up, as in PyTorch).
class CosineAnnealingLR final : public Schedule {
 public:
  struct Options {
    int64_t t_max = 100;
    double eta_min = 0;
    static auto fields() {
      return std::tuple{Field{"t_max", &Options::t_max, "steps from the base lr to eta_min"},
                        Field{"eta_min", &Options::eta_min, "the lowest learning rate"}};
    }
    void validate() const;
  };
  CosineAnnealingLR(Optimizer& optimizer, Options options);
  double lr_at(int64_t step, size_t group) const override;

 private:
  Options options_;
};

// SGDR (Loshchilov & Hutter, 2017): cosine annealing restarted after t_0 steps, then after
// t_0 * t_mult, t_0 * t_mult^2, ...
class CosineAnnealingWarmRestarts final : public Schedule {
 public:
  struct Options {
    int64_t t_0 = 10;
    int64_t t_mult = 1;
    double eta_min = 0;
    static auto fields() {
      return std::tuple{Field{"t_0", &Options::t_0, "steps until the first restart"},
                        Field{"t_mult", &Options::t_mult, "each period is this times the last"},
                        Field{"eta_min", &Options::eta_min, "the lowest learning rate"}};
    }
    void validate() const;
  };
  CosineAnnealingWarmRestarts(Optimizer& optimizer, Options options);
  double lr_at(int64_t step, size_t group) const override;

 private:
  Options options_;
};

// Cyclical learning rates (Smith, 2017): triangles between base_lr and max_lr, whose height halves
// every cycle (triangular2) or decays by gamma^t (exp_range); momentum cycles the other way.
class CyclicLR final : public Schedule {
 public:
  struct Options {
    double base_lr = 0;  // 0: each group's lr
    double max_lr = 0;
    int64_t step_size_up = 2000;
    int64_t step_size_down = 0;  // 0: step_size_up
    std::string mode = "triangular";
    double gamma = 1.0;
    bool cycle_momentum = true;
    double base_momentum = 0.8;
    double max_momentum = 0.9;
    static auto fields() {
      return std::tuple{
          Field{"base_lr", &Options::base_lr, "lower bound (0: the optimizer's lr)"},
          Field{"max_lr", &Options::max_lr, "upper bound of the first cycle"},
          Field{"step_size_up", &Options::step_size_up, "steps from base_lr to max_lr"},
          Field{"step_size_down", &Options::step_size_down, "steps back down (0: step_size_up)"},
          Field{"mode", &Options::mode, "triangular, triangular2 or exp_range"},
          Field{"gamma", &Options::gamma, "exp_range's decay per step"},
          Field{"cycle_momentum", &Options::cycle_momentum,
                "cycle momentum (or beta1) inversely, when the optimizer has it"},
          Field{"base_momentum", &Options::base_momentum, "momentum at the peak lr"},
          Field{"max_momentum", &Options::max_momentum, "momentum at base_lr"}};
    }
    void validate() const;
  };
  CyclicLR(Optimizer& optimizer, Options options);
  double lr_at(int64_t step, size_t group) const override;
  std::optional<double> momentum_at(int64_t step, size_t group) const override;

 private:
  // The position in the cycle (0 at base, 1 at the peak) times the amplitude's scale.
  double height(int64_t step) const;
  Options options_;
  std::string momentum_option_;
};

// The 1cycle policy (Smith & Topin, 2019): from max_lr / div_factor up to max_lr over pct_start of
// total_steps, then down to max_lr / (div_factor * final_div_factor); after total_steps it stays
// there (PyTorch raises instead).
class OneCycleLR final : public Schedule {
 public:
  struct Options {
    double max_lr = 0;  // 0: each group's lr
    int64_t total_steps = 0;
    double pct_start = 0.3;
    std::string anneal_strategy = "cos";
    bool cycle_momentum = true;
    double base_momentum = 0.85;
    double max_momentum = 0.95;
    double div_factor = 25;
    double final_div_factor = 1e4;
    bool three_phase = false;
    static auto fields() {
      return std::tuple{
          Field{"max_lr", &Options::max_lr, "the peak (0: the optimizer's lr)"},
          Field{"total_steps", &Options::total_steps, "length of the cycle in steps"},
          Field{"pct_start", &Options::pct_start, "fraction of the cycle spent rising"},
          Field{"anneal_strategy", &Options::anneal_strategy, "cos or linear"},
          Field{"cycle_momentum", &Options::cycle_momentum,
                "cycle momentum (or beta1) inversely, when the optimizer has it"},
          Field{"base_momentum", &Options::base_momentum, "momentum at the peak lr"},
          Field{"max_momentum", &Options::max_momentum, "momentum at the start and end"},
          Field{"div_factor", &Options::div_factor, "the start is max_lr / div_factor"},
          Field{"final_div_factor", &Options::final_div_factor,
                "the end is the start / final_div_factor"},
          Field{"three_phase", &Options::three_phase,
                "come back down to the start, then anneal (the paper's version)"}};
    }
    void validate() const;
  };
  OneCycleLR(Optimizer& optimizer, Options options);
  double lr_at(int64_t step, size_t group) const override;
  std::optional<double> momentum_at(int64_t step, size_t group) const override;

 private:
  struct Phase {
    double end_step;
    double start_lr_factor, end_lr_factor;  // of max_lr
    double start_momentum, end_momentum;
  };
  // The phase holding `step`, with the fraction of it done.
  std::pair<const Phase*, double> locate(int64_t step) const;
  double anneal(double start, double end, double pct) const;
  double max_lr(size_t group) const;
  Options options_;
  std::vector<Phase> phases_;
  std::string momentum_option_;
};

// Multiplies the learning rate by `factor` once the metric has not improved for `patience` steps,
// then waits `cooldown` steps; never below min_lr.
class ReduceLROnPlateau final : public Schedule {
 public:
  struct Options {
    std::string mode = "min";
    double factor = 0.1;
    int64_t patience = 10;
    double threshold = 1e-4;
    std::string threshold_mode = "rel";
    int64_t cooldown = 0;
    double min_lr = 0;
    double eps = 1e-8;
    static auto fields() {
      return std::tuple{
          Field{"mode", &Options::mode, "min (a loss) or max (an accuracy)"},
          Field{"factor", &Options::factor, "new lr = lr * factor"},
          Field{"patience", &Options::patience, "steps without improvement before reducing"},
          Field{"threshold", &Options::threshold, "how much better counts as an improvement"},
          Field{"threshold_mode", &Options::threshold_mode, "rel or abs"},
          Field{"cooldown", &Options::cooldown, "steps to wait after a reduction"},
          Field{"min_lr", &Options::min_lr, "the lowest learning rate"},
          Field{"eps", &Options::eps, "reductions smaller than this are skipped"}};
    }
    void validate() const;
  };
  ReduceLROnPlateau(Optimizer& optimizer, Options options);
  double lr_at(int64_t step, size_t group) const override;
  bool needs_metric() const override { return true; }

 protected:
  void observe(double metric) override;
  nlohmann::json extra_state() const override;
  void load_extra_state(const nlohmann::json& state) override;

 private:
  bool is_better(double value) const;
  Options options_;
  std::vector<double> lrs_;
  std::optional<double> best_;
  int64_t bad_steps_ = 0;
  int64_t cooldown_counter_ = 0;
};

}  // namespace nabla::optim
