// Optimizers that precondition Linear and Conv2d layers with curvature measured on the layers
// themselves: K-FAC (Martens & Grosse, 2015; Grosse & Martens, 2016 for convolutions) and the
// empirical-Fisher natural gradient. Both are created by name ("kfac", "natural_gradient") and
// then given the model:
//   auto optimizer = optim::create("kfac", model.named_parameters(), {{"lr", 0.01}});
//   optim::attach_model(*optimizer, model);
// Parameters of no tracked layer (BatchNorm, a model never attached) step as SGD with momentum.
#pragma once

#include <vector>

#include "optim/layer_hooks.h"
#include "optim/module_aware.h"
#include "optim/optimizer.h"
#include "optim/registry.h"

namespace nabla::optim {

// The driver both share; a subclass supplies precondition(). Its options must include lr,
// momentum, weight_decay and kl_clip, which the shared step reads by name.
class LayerCurvatureOptimizer : public Optimizer, public ModuleAware {
 public:
  void attach(nn::Module& model) override;
  // Removes the hooks from the attached model, which must still be alive; the optimizer goes on
  // as SGD with momentum. (Destroying the optimizer leaves the model alone: its hooks go quiet.)
  void detach();
  // The names of the weights whose layers are tracked, in the model's order.
  std::vector<std::string> tracked_weights() const;

 protected:
  using Optimizer::Optimizer;

  // One tracked layer in this step.
  struct LayerStep {
    TrackedLayer& layer;
    State& state;                     // the weight's
    Tensor grad;                      // [out, columns]: TrackedLayer::gradient()
    std::vector<LayerBatch> batches;  // what the hooks recorded since the last step
    Tensor update;  // set by precondition(), shaped like grad; left undefined, grad is used
  };

  // Sets the preconditioned gradient of the group's layers (all of whose weights have gradients)
  // from `options`, the group's.
  virtual void precondition(std::vector<LayerStep>& layers, const OptionMap& options) = 0;
  // Called by attach with the layers of each group and its options: a subclass refuses what it
  // cannot handle.
  virtual void check_layers(const std::vector<const TrackedLayer*>& layers,
                            const OptionMap& options) const;

 private:
  // Preconditions the tracked layers, scales their updates by the KL clip, then steps every
  // parameter with momentum and weight decay: buf = momentum buf + (d + weight_decay p),
  // p -= lr buf (the first step sets buf = d, as torch.optim.SGD does).
  void update_group(ParamGroup& group) final;

  std::vector<TrackedLayer> layers_;
};

// Registers `T`, a LayerCurvatureOptimizer whose options are T::Options, as `name`.
template <class T>
void register_layer_curvature(OptimizerRegistry& registry, const std::string& name,
                              const std::string& help, Family family) {
  std::vector<OptionSpec> specs = option_specs<typename T::Options>();
  registry.add(
      {name, help, family, specs, [name, specs](NamedTensors params, const OptionMap& options) {
         return std::unique_ptr<Optimizer>(
             std::make_unique<T>(name, specs, std::move(params), options));
       }});
}

}  // namespace nabla::optim
