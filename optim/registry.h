// The optimizer registry: every optimizer by name, with its typed options, defaults and help, so
// that the training program, its --help and HPO search spaces pick optimizers by name.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "optim/optimizer.h"

namespace nabla::optim {

// How an optimizer's step scales with the gradient, which sets sensible learning rates (for HPO)
// and step budgets (for the conformance suite).
enum class Family : uint8_t {
  gradient,      // a multiple of the gradient: SGD and its kin
  adaptive,      // rescaled per coordinate by gradient statistics: Adam, RMSprop, AdaGrad...
  sign,          // a fixed size per coordinate: Lion
  trust_ratio,   // rescaled per tensor by |w| / |update|: LARS, LAMB
  simplex,       // keeps each tensor on the probability simplex: exponentiated gradient
  second_order,  // curvature-scaled steps driven by the closure: Newton, BFGS, L-BFGS
};
const char* name(Family family);

// Builds the optimizer from parameters and options as the caller gave them (not yet resolved).
using OptimizerFactory =
    std::function<std::unique_ptr<Optimizer>(NamedTensors params, const OptionMap& options)>;

struct OptimizerInfo {
  std::string name;
  std::string help;
  Family family;
  std::vector<OptionSpec> options;
  OptimizerFactory factory;
};

class OptimizerRegistry {
 public:
  // A second optimizer of the same name is a ValueError.
  void add(OptimizerInfo info);
  bool contains(std::string_view name) const;
  // An unknown name is a ValueError that lists the registered ones.
  OptimizerInfo find(std::string_view name) const;
  // Sorted by name.
  std::vector<OptimizerInfo> list() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, OptimizerInfo, std::less<>> entries_;
};

// Builds an oracle from its own options (complete and typed).
using OracleFactory = std::function<std::unique_ptr<GradientOracle>(const OptionMap& options)>;

// Registers `name` as `make`'s oracle in front of any registered optimizer: `specs` holds the
// oracle's own options, including the text option "base" that names the optimizer; every other
// option goes to that optimizer ({{"base", "adamw"}, {"rho", 0.05}, {"lr", 1e-3}}).
void register_oracle(OptimizerRegistry& registry, const std::string& name, const std::string& help,
                     Family family, std::vector<OptionSpec> specs, OracleFactory make);

// The registry, with the built-in optimizers registered on first use (see optim/rules/rules.h:
// registration is explicit, because a linker drops unreferenced static registrars).
OptimizerRegistry& optimizer_registry();
std::vector<OptimizerInfo> registered_optimizers();

// optim::create("adamw", model.named_parameters(), {{"lr", 3e-3}, {"weight_decay", 0.05}}).
std::unique_ptr<Optimizer> create(std::string_view name, NamedTensors params,
                                  const OptionMap& options = {});
// Parameters named by position: "0", "1", ...
std::unique_ptr<Optimizer> create(std::string_view name, const std::vector<Tensor>& params,
                                  const OptionMap& options = {});

}  // namespace nabla::optim
