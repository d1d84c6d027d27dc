// Per-parameter optimizer state: the named tensors and scalars a rule keeps for one parameter.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace nabla::optim {

// Tensors under dotted names, in a fixed order: what nn::Module::named_parameters() returns.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// One parameter's state: named tensors (Adam's "exp_avg") and scalars (NAdam's "mu_product"),
// created by the rule on first use, plus the count of updates, which the driver keeps. Slot names
// have no '.', so that "<parameter name>.<slot>" splits back at its last dot.
class State {
 public:
  int64_t step = 0;

  // The slot `name`, created as zeros shaped like `like` on first use.
  Tensor zeros(const std::string& name, const Tensor& like);
  // The slot `name`, or an undefined tensor when there is none yet.
  Tensor find(const std::string& name) const;
  void set(const std::string& name, Tensor value);
  // The scalar `name`, set to `initial` on first use.
  double& scalar(const std::string& name, double initial);

  std::map<std::string, Tensor>& tensors() { return tensors_; }
  const std::map<std::string, Tensor>& tensors() const { return tensors_; }
  std::map<std::string, double>& scalars() { return scalars_; }
  const std::map<std::string, double>& scalars() const { return scalars_; }

 private:
  std::map<std::string, Tensor> tensors_;
  std::map<std::string, double> scalars_;
};

}  // namespace nabla::optim
