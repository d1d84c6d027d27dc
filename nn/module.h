// nn::Module: the base of every layer and model. It owns named parameters, buffers and child
// modules, and gives them dotted names (`layer1.0.conv1.weight`) for state dicts and optimizers.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace nabla::nn {

// Tensors in a fixed order under their dotted names: parameters, state dicts, optimizer input.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
using StateDict = NamedTensors;

// What load_state_dict found: keys the module has but the dict lacks, keys the dict has but the
// module lacks, and keys present in both with different shapes.
struct LoadReport {
  struct Mismatch {
    std::string name;
    Shape expected;
    Shape got;
  };
  std::vector<std::string> missing;
  std::vector<std::string> unexpected;
  std::vector<Mismatch> mismatched;

  bool ok() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  std::string to_string() const;
};

class Module {
 public:
  // Sees a module's input and output after each forward: summaries, K-FAC's statistics.
  using ForwardHook = std::function<void(Module&, const Tensor& input, const Tensor& output)>;
  // Replaces a module's input before forward, or its output after it (PyTorch's forward pre-hooks
  // and forward hooks that return a value): what quantization-aware training inserts its fake
  // quantizers with, leaving the module's own forward as it is.
  using InputTransform = std::function<Tensor(Module&, const Tensor& input)>;
  using OutputTransform = std::function<Tensor(Module&, const Tensor& input, const Tensor& output)>;

  // `type_name` is what printing shows: "Linear", "BatchNorm2d".
  explicit Module(std::string type_name);
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Applies the input transforms in order, calls forward, applies the output transforms in
  // order, then calls the forward hooks, which see the transformed input and the final output.
  Tensor operator()(const Tensor& input);
  virtual Tensor forward(const Tensor& input);

  const std::string& type_name() const { return type_name_; }

  // ---- Registration: the returned handle is the registered tensor or module itself ----
  // A parameter is a leaf that requires grad (unless told otherwise) and that optimizers update.
  Tensor register_parameter(const std::string& name, Tensor value, bool requires_grad = true);
  // A buffer is state that is not trained (BatchNorm's running statistics); a non-persistent one
  // stays out of the state dict.
  Tensor register_buffer(const std::string& name, Tensor value, bool persistent = true);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }
  // Unregisters the child `name` (one that a tool attached, such as an observer) and returns it;
  // a ValueError when there is none. A container that also keeps the child in its own list
  // (Sequential) still calls it: remove only what register_module alone added.
  std::shared_ptr<Module> remove_module(const std::string& name);

  // ---- What the module holds, children's entries prefixed with their names ----
  NamedTensors named_parameters(bool recurse = true) const;
  std::vector<Tensor> parameters(bool recurse = true) const;
  NamedTensors named_buffers(bool recurse = true) const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const;
  // This module (named "") and every descendant, parents before children.
  std::vector<std::pair<std::string, Module*>> named_modules();
  int64_t num_parameters(bool trainable_only = false) const;

  // ---- Mode, placement, gradients ----
  Module& train(bool on = true);
  Module& eval() { return train(false); }
  bool is_training() const { return training_; }
  // Moves or converts parameters and buffers in place, so existing handles see the change;
  // to(DType) converts floating-point tensors only (integer buffers keep their dtype).
  Module& to(Device device);
  Module& to(DType dtype);
  void zero_grad(bool set_to_none = true);
  // Runs fn on every descendant, then on this module.
  Module& apply(const std::function<void(Module&)>& fn);

  // ---- State ----
  // Parameters and persistent buffers, sharing data with the module.
  StateDict state_dict() const;
  // Copies values into the module's tensors (converting dtype and device). Strict: any missing,
  // unexpected or mismatched key is a ValueError listing them all and nothing is loaded.
  // Otherwise loads what matches and returns the report.
  LoadReport load_state_dict(const StateDict& state, bool strict = true);

  // ---- Inspection ----
  // Runs one forward pass on zeros of `input_shape` (eval mode, no grad) and tabulates every
  // layer's output shape and parameter count.
  std::string summary(const Shape& input_shape);
  // Hooks and transforms share one sequence of handles, so a handle names one of them.
  int64_t register_forward_hook(ForwardHook hook);
  void remove_forward_hook(int64_t handle);
  int64_t register_input_transform(InputTransform transform);
  void remove_input_transform(int64_t handle);
  int64_t register_output_transform(OutputTransform transform);
  void remove_output_transform(int64_t handle);
  // Whether anything outside the module sees or changes its input or output: forward hooks, input
  // or output transforms. A fused path that computes a module's output without calling the module
  // (batch_norm_activation) must run the modules one by one when this is true.
  bool has_forward_hooks() const {
    return !forward_hooks_.empty() || !input_transforms_.empty() || !output_transforms_.empty();
  }

  // Prints the module tree like PyTorch: `Linear(in_features=784, out_features=10, bias=true)`.
  friend std::ostream& operator<<(std::ostream& os, const Module& module);

 protected:
  // The part inside the parentheses when printed: the layer's configuration.
  virtual std::string extra_repr() const { return ""; }

 private:
  struct Buffer {
    Tensor tensor;
    bool persistent;
  };

  void add_child(const std::string& name, std::shared_ptr<Module> module);
  void check_new_name(const std::string& name, const char* what) const;
  // Every tensor this module and its descendants hold, parameters and buffers.
  std::vector<Tensor> all_tensors() const;
  void print(std::ostream& os, int indent) const;

  std::string type_name_;
  bool training_ = true;
  std::vector<std::pair<std::string, Tensor>> parameters_;
  std::vector<std::pair<std::string, Buffer>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  std::vector<std::pair<int64_t, ForwardHook>> forward_hooks_;
  std::vector<std::pair<int64_t, InputTransform>> input_transforms_;
  std::vector<std::pair<int64_t, OutputTransform>> output_transforms_;
  int64_t next_hook_handle_ = 0;
};

}  // namespace nabla::nn
