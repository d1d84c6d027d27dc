// L-BFGS (Nocedal, 1980; Liu & Nocedal, 1989) as torch.optim.LBFGS: the inverse Hessian from the
// last history_size curvature pairs by the two-loop recursion, with a fixed step or a
// strong-Wolfe line search (optim/quasi_newton.h).
#include <string>

#include "optim/closure_optimizer.h"
#include "optim/quasi_newton.h"

namespace nabla::optim {
namespace {

// The pairs live in every participant's state as slices: slots "s<i>" and "y<i>", oldest first,
// with the shared scalars "rho<i>" = 1 / s_i . y_i, "history" (how many) and "h_diag" (the
// initial inverse Hessian's scale, s . y / y . y of the newest pair).
class LimitedMemory final : public InverseHessian {
 public:
  explicit LimitedMemory(int64_t history_size) : history_size_(history_size) {}

  void reset(const Participants& ps) const override {
    for (int64_t i = 0; i < count(ps); ++i) forget(ps, i);
    set_shared_scalar(ps, "history", 0);
    set_shared_scalar(ps, "h_diag", 1);
  }

  void update(const Participants& ps, const ParamVector& s, const ParamVector& y,
              double sy) const override {
    int64_t k = count(ps);
    // A full history drops its oldest pair (more than one if history_size was lowered).
    while (k >= history_size_) {
      for (int64_t i = 1; i < k; ++i) {
        set_slot_vector(ps, name("s", i - 1), slot_vector(ps, name("s", i)));
        set_slot_vector(ps, name("y", i - 1), slot_vector(ps, name("y", i)));
        set_shared_scalar(ps, name("rho", i - 1), shared_scalar(ps, name("rho", i), 0));
      }
      forget(ps, --k);
    }
    set_slot_vector(ps, name("s", k), s);
    set_slot_vector(ps, name("y", k), y);
    set_shared_scalar(ps, name("rho", k), 1 / sy);
    set_shared_scalar(ps, "history", static_cast<double>(k + 1));
    set_shared_scalar(ps, "h_diag", sy / dot(y, y));
  }

  // The two-loop recursion: q = -g through the pairs newest first, scaled by h_diag, then back
  // through them oldest first.
  ParamVector direction(const Participants& ps, const ParamVector& g) const override {
    const int64_t k = count(ps);
    std::vector<double> alpha(static_cast<size_t>(k));
    ParamVector q = scaled(g, -1);
    for (int64_t i = k - 1; i >= 0; --i) {
      double rho = shared_scalar(ps, name("rho", i), 0);
      alpha[i] = dot(slot_vector(ps, name("s", i)), q) * rho;
      axpy_(q, -alpha[i], slot_vector(ps, name("y", i)));
    }
    ParamVector r = scaled(q, shared_scalar(ps, "h_diag", 1));
    for (int64_t i = 0; i < k; ++i) {
      double rho = shared_scalar(ps, name("rho", i), 0);
      double beta = dot(slot_vector(ps, name("y", i)), r) * rho;
      axpy_(r, alpha[i] - beta, slot_vector(ps, name("s", i)));
    }
    return r;
  }

 private:
  static std::string name(const char* prefix, int64_t i) {
    std::string slot = prefix;
    slot += std::to_string(i);
    return slot;
  }
  static int64_t count(const Participants& ps) {
    return static_cast<int64_t>(shared_scalar(ps, "history", 0));
  }
  static void forget(const Participants& ps, int64_t i) {
    erase_slot(ps, name("s", i));
    erase_slot(ps, name("y", i));
    for (const Participant& p : ps) p.state->scalars().erase(name("rho", i));
  }

  int64_t history_size_;
};

struct Lbfgs {
  struct Options : QuasiNewtonOptions {
    int64_t history_size = 100;

    static auto fields() {
      return std::tuple{
          Field{"lr", &Options::lr, "step size: the fixed step, or the line search's first trial"},
          Field{"max_iter", &Options::max_iter, "iterations per step"},
          Field{"max_eval", &Options::max_eval,
                "closure evaluations per step (0: max_iter * 5 / 4)"},
          Field{"tolerance_grad", &Options::tolerance_grad,
                "stop when the largest gradient element is this small"},
          Field{"tolerance_change", &Options::tolerance_change,
                "stop when the loss or the weights change less than this"},
          Field{"history_size", &Options::history_size, "curvature pairs kept"},
          Field{"line_search", &Options::line_search, "none or strong_wolfe"},
          Field{"sufficient_decrease", &Options::sufficient_decrease,
                "strong Wolfe's c1: loss(x + t p) <= loss(x) + c1 t g . p"},
          Field{"curvature", &Options::curvature,
                "strong Wolfe's c2: |g(x + t p) . p| <= c2 |g . p|"}};
    }
    void validate() const {
      QuasiNewtonOptions::validate("lbfgs");
      check_at_least("lbfgs", "history_size", static_cast<double>(history_size), 1);
    }
  };

  static ClosureStep step(StepContext& context, const Options& options) {
    return quasi_newton_step(context, options, LimitedMemory(options.history_size));
  }
};

}  // namespace

void register_lbfgs(OptimizerRegistry& registry) {
  register_method<Lbfgs>(registry, "lbfgs",
                         "L-BFGS as torch.optim.LBFGS; needs step(closure); line_search "
                         "strong_wolfe for a line search",
                         Family::second_order);
}

}  // namespace nabla::optim
