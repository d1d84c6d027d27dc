// The built-in optimizers. Each rule file defines register_<name>(OptimizerRegistry&); adding an
// optimizer to nabla is its file plus one X(<name>) line here.
#pragma once

#include "optim/registry.h"

#define NABLA_OPTIM_BUILTIN_RULES(X) \
  X(sgd)                             \
  X(adagrad)                         \
  X(rmsprop)                         \
  X(adadelta)                        \
  X(adam)                            \
  X(adamax)                          \
  X(nadam)                           \
  X(radam)                           \
  X(lamb)                            \
  X(lars)                            \
  X(lion)                            \
  X(proximal)                        \
  X(hypergradient)                   \
  X(exponentiated_gradient)          \
  X(sam)                             \
  X(svrg)                            \
  X(newton)                          \
  X(bfgs)                            \
  X(lbfgs)                           \
  X(shampoo)                         \
  X(kfac)                            \
  X(natural_gradient)                \
  X(hessian_free)                    \
  X(adahessian)

namespace nabla::optim {

#define NABLA_OPTIM_DECLARE_REGISTER(rule) void register_##rule(OptimizerRegistry& registry);
NABLA_OPTIM_BUILTIN_RULES(NABLA_OPTIM_DECLARE_REGISTER)
#undef NABLA_OPTIM_DECLARE_REGISTER

// Registers every built-in optimizer; optimizer_registry() calls it once.
inline void register_builtin_optimizers(OptimizerRegistry& registry) {
#define NABLA_OPTIM_CALL_REGISTER(rule) register_##rule(registry);
  NABLA_OPTIM_BUILTIN_RULES(NABLA_OPTIM_CALL_REGISTER)
#undef NABLA_OPTIM_CALL_REGISTER
}

}  // namespace nabla::optim
