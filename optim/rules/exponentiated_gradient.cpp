// Exponentiated gradient (Kivinen & Warmuth, 1997): mirror descent with the entropy on the
// probability simplex. Each parameter tensor is one distribution: positive entries summing to 1.
#include "optim/rule.h"

namespace nabla::optim {
namespace {

struct ExponentiatedGradient {
  struct Options {
    double lr = 0.1;

    static auto fields() { return std::tuple{Field{"lr", &Options::lr, "learning rate"}}; }
    void validate() const { check_at_least("exponentiated_gradient", "lr", lr, 0); }
  };

  static void update(const Tensor& param, const Tensor& grad, State& /*state*/, const Options& o,
                     int64_t step) {
    if (step == 1) {
      double smallest = amin(param).item();
      NABLA_CHECK(smallest > 0, ValueError,
                  "exponentiated_gradient: parameters are distributions on the simplex, so their "
                  "entries must be positive; got an entry ",
                  smallest);
    }
    // w_i <- w_i exp(-lr g_i) / sum_j w_j exp(-lr g_j); subtracting the largest exponent first
    // keeps exp() from overflowing and cancels in the normalization.
    Tensor z = -o.lr * grad;
    Tensor w = param * exp(z - amax(z));
    copy_(param, w / sum(w));
  }
};

}  // namespace

void register_exponentiated_gradient(OptimizerRegistry& registry) {
  register_rule<ExponentiatedGradient>(registry, "exponentiated_gradient",
                                       "exponentiated gradient: mirror descent on the simplex",
                                       Family::simplex);
}

}  // namespace nabla::optim
