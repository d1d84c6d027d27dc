// attach_model: hands the model to optimizers that want it.
#include "optim/module_aware.h"

namespace nabla::optim {

bool attach_model(Optimizer& optimizer, nn::Module& model) {
  auto* aware = dynamic_cast<ModuleAware*>(&optimizer);
  if (aware) aware->attach(model);
  return aware != nullptr;
}

}  // namespace nabla::optim
