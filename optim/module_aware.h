// ModuleAware: an optimizer that needs the model, not only its parameters (K-FAC's layer hooks).
#pragma once

#include "nn/module.h"
#include "optim/optimizer.h"

namespace nabla::optim {

class ModuleAware {
 public:
  virtual ~ModuleAware() = default;
  // Finds the layers of `model` whose parameters the optimizer holds and hooks them. Attaching
  // again replaces the earlier attachment (whose hooks stop recording).
  virtual void attach(nn::Module& model) = 0;
};

// Attaches `model` to `optimizer` when the optimizer is ModuleAware; returns whether it was, so
// that a training program can call it for whichever optimizer it was given.
bool attach_model(Optimizer& optimizer, nn::Module& model);

}  // namespace nabla::optim
