// SGD with momentum, dampening, Nesterov momentum and L2 weight decay (PyTorch's torch.optim.SGD).
#include "optim/rule.h"

namespace nabla::optim {
namespace {

struct Sgd {
  struct Options {
    double lr = 1e-2;
    double momentum = 0;
    double dampening = 0;
    double weight_decay = 0;
    bool nesterov = false;

    static auto fields() {
      return std::tuple{
          Field{"lr", &Options::lr, "learning rate"},
          Field{"momentum", &Options::momentum, "momentum factor (0: plain SGD)"},
          Field{"dampening", &Options::dampening,
                "the gradient enters the momentum times 1 - this"},
          Field{"weight_decay", &Options::weight_decay, "L2 penalty added to the gradient"},
          Field{"nesterov", &Options::nesterov, "Nesterov momentum (momentum > 0, no dampening)"}};
    }
    void validate() const {
      check_at_least("sgd", "lr", lr, 0);
      check_at_least("sgd", "momentum", momentum, 0);
      check_at_least("sgd", "weight_decay", weight_decay, 0);
      NABLA_CHECK(!nesterov || (momentum > 0 && dampening == 0), ValueError,
                  "sgd: nesterov needs momentum > 0 and dampening 0, got momentum ", momentum,
                  " and dampening ", dampening);
    }
  };

  static void update(const Tensor& param, const Tensor& grad, State& state, const Options& o,
                     int64_t /*step*/) {
    Tensor d = o.weight_decay != 0 ? grad + o.weight_decay * param : grad;
    if (o.momentum != 0) {
      Tensor buf = state.find("momentum_buffer");
      if (buf.defined()) {
        mul_(buf, o.momentum);
        add_(buf, d, 1 - o.dampening);
      } else {  // the first step takes the gradient whole, without dampening
        buf = core::clone(d);
        state.set("momentum_buffer", buf);
      }
      d = o.nesterov ? d + o.momentum * buf : buf;
    }
    add_(param, d, -o.lr);
  }
};

}  // namespace

void register_sgd(OptimizerRegistry& registry) {
  register_rule<Sgd>(registry, "sgd", "SGD with momentum, dampening, Nesterov and weight decay",
                     Family::gradient);
}

}  // namespace nabla::optim
