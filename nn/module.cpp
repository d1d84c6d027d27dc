// nn::Module: registration, traversal under dotted names, mode and placement, state dicts,
// printing and summaries.
#include "nn/module.h"

#include <algorithm>
#include <iomanip>
#include <map>
#include <ostream>
#include <sstream>

#include "autograd/grad_mode.h"
#include "autograd/ops/inplace.h"
#include "autograd/ops/views.h"
#include "core/creation.h"
#include "core/error.h"
#include "core/ops.h"

namespace nabla::nn {
namespace {

std::string join_name(const std::string& prefix, const std::string& name) {
  if (prefix.empty()) return name;
  return name.empty() ? prefix : prefix + "." + name;
}

std::string shape_string(const Shape& shape) {
  std::ostringstream os;
  os << shape;
  return os.str();
}

}  // namespace

std::string LoadReport::to_string() const {
  std::ostringstream os;
  auto list = [&](const char* what, const std::vector<std::string>& names) {
    if (names.empty()) return;
    os << "\n  " << what << " (" << names.size() << "):";
    for (const auto& name : names) os << " " << name;
  };
  list("missing keys", missing);
  list("unexpected keys", unexpected);
  if (!mismatched.empty()) {
    os << "\n  shape mismatches (" << mismatched.size() << "):";
    for (const auto& m : mismatched) {
      os << " " << m.name << " (module " << m.expected << ", state dict " << m.got << ")";
    }
  }
  return os.str();
}

Module::Module(std::string type_name) : type_name_(std::move(type_name)) {}

Tensor Module::operator()(const Tensor& input) {
  // A hook or transform may remove itself; each loop iterates over a copy.
  Tensor x = input;
  auto input_transforms = input_transforms_;
  for (auto& [handle, transform] : input_transforms) x = transform(*this, x);
  Tensor output = forward(x);
  auto output_transforms = output_transforms_;
  for (auto& [handle, transform] : output_transforms) output = transform(*this, x, output);
  auto hooks = forward_hooks_;
  for (auto& [handle, hook] : hooks) hook(*this, x, output);
  return output;
}

Tensor Module::forward(const Tensor&) {
  NABLA_CHECK(false, Error, type_name_, "::forward: this module has no forward of its own; ",
              "call its children (it is a container or a building block)");
  return {};
}

void Module::check_new_name(const std::string& name, const char* what) const {
  NABLA_CHECK(!name.empty() && name.find('.') == std::string::npos, ValueError, type_name_,
              "::register_", what, ": name '", name, "' must be non-empty and contain no '.'");
  auto taken = [&](const auto& entries) {
    return std::any_of(entries.begin(), entries.end(),
                       [&](const auto& entry) { return entry.first == name; });
  };
  NABLA_CHECK(!taken(parameters_) && !taken(buffers_) && !taken(children_), ValueError, type_name_,
              "::register_", what, ": name '", name, "' is already registered");
}

Tensor Module::register_parameter(const std::string& name, Tensor value, bool requires_grad) {
  check_new_name(name, "parameter");
  NABLA_CHECK(value.defined(), ValueError, type_name_, "::register_parameter: '", name,
              "' is an undefined tensor");
  NABLA_CHECK(value.is_leaf(), ValueError, type_name_, "::register_parameter: '", name,
              "' must be a leaf tensor (detach it first)");
  value.requires_grad_(requires_grad);
  parameters_.emplace_back(name, value);
  return value;
}

Tensor Module::register_buffer(const std::string& name, Tensor value, bool persistent) {
  check_new_name(name, "buffer");
  NABLA_CHECK(value.defined(), ValueError, type_name_, "::register_buffer: '", name,
              "' is an undefined tensor");
  buffers_.emplace_back(name, Buffer{value, persistent});
  return value;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  check_new_name(name, "module");
  NABLA_CHECK(module != nullptr, ValueError, type_name_, "::register_module: '", name, "' is null");
  children_.emplace_back(name, std::move(module));
}

std::shared_ptr<Module> Module::remove_module(const std::string& name) {
  auto it = std::find_if(children_.begin(), children_.end(),
                         [&](const auto& entry) { return entry.first == name; });
  NABLA_CHECK(it != children_.end(), ValueError, type_name_, "::remove_module: no child named '",
              name, "'");
  std::shared_ptr<Module> child = std::move(it->second);
  children_.erase(it);
  return child;
}

NamedTensors Module::named_parameters(bool recurse) const {
  NamedTensors out(parameters_.begin(), parameters_.end());
  if (!recurse) return out;
  for (const auto& [child_name, child] : children_) {
    for (auto& [name, tensor] : child->named_parameters()) {
      out.emplace_back(join_name(child_name, name), tensor);
    }
  }
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [name, tensor] : named_parameters(recurse)) out.push_back(tensor);
  return out;
}

NamedTensors Module::named_buffers(bool recurse) const {
  NamedTensors out;
  for (const auto& [name, buffer] : buffers_) out.emplace_back(name, buffer.tensor);
  if (!recurse) return out;
  for (const auto& [child_name, child] : children_) {
    for (auto& [name, tensor] : child->named_buffers()) {
      out.emplace_back(join_name(child_name, name), tensor);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_children() const {
  return children_;
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out{{"", this}};
  for (auto& [child_name, child] : children_) {
    for (auto& [name, module] : child->named_modules()) {
      out.emplace_back(join_name(child_name, name), module);
    }
  }
  return out;
}

int64_t Module::num_parameters(bool trainable_only) const {
  int64_t count = 0;
  for (const auto& p : parameters()) {
    if (!trainable_only || p.requires_grad()) count += p.numel();
  }
  return count;
}

Module& Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
  return *this;
}

std::vector<Tensor> Module::all_tensors() const {
  std::vector<Tensor> out = parameters();
  for (auto& [name, tensor] : named_buffers()) out.push_back(tensor);
  return out;
}

Module& Module::to(Device device) {
  NoGradGuard no_grad;
  for (const Tensor& t : all_tensors()) {
    if (t.device() == device) continue;
    core::set_data(t, core::to(t, device));
    if (t.grad().defined()) t.set_grad(core::to(t.grad(), device));
  }
  return *this;
}

Module& Module::to(DType dtype) {
  NABLA_CHECK(is_floating(dtype), DTypeError, type_name_, "::to: ", dtype,
              " is not a floating-point dtype");
  NoGradGuard no_grad;
  for (const Tensor& t : all_tensors()) {
    if (!is_floating(t.dtype()) || t.dtype() == dtype) continue;
    core::set_data(t, core::to(t, dtype));
    if (t.grad().defined()) t.set_grad(core::to(t.grad(), dtype));
  }
  return *this;
}

void Module::zero_grad(bool set_to_none) { nabla::zero_grad(parameters(), set_to_none); }

Module& Module::apply(const std::function<void(Module&)>& fn) {
  for (auto& [name, child] : children_) child->apply(fn);
  fn(*this);
  return *this;
}

StateDict Module::state_dict() const {
  StateDict out(parameters_.begin(), parameters_.end());
  for (const auto& [name, buffer] : buffers_) {
    if (buffer.persistent) out.emplace_back(name, buffer.tensor);
  }
  for (const auto& [child_name, child] : children_) {
    for (auto& [name, tensor] : child->state_dict()) {
      out.emplace_back(join_name(child_name, name), tensor);
    }
  }
  return out;
}

LoadReport Module::load_state_dict(const StateDict& state, bool strict) {
  std::map<std::string, const Tensor*> given;
  for (const auto& [name, tensor] : state) given[name] = &tensor;

  LoadReport report;
  std::vector<std::pair<Tensor, const Tensor*>> copies;
  StateDict own = state_dict();
  for (const auto& [name, tensor] : own) {
    auto it = given.find(name);
    if (it == given.end()) {
      report.missing.push_back(name);
      continue;
    }
    const Tensor& source = *it->second;
    if (source.shape() != tensor.shape()) {
      report.mismatched.push_back({name, tensor.shape(), source.shape()});
    } else {
      copies.emplace_back(tensor, &source);
    }
    given.erase(it);
  }
  for (const auto& [name, tensor] : given) report.unexpected.push_back(name);
  NABLA_CHECK(!strict || report.ok(), ValueError, type_name_,
              "::load_state_dict: the state dict does not match the module:", report.to_string());

  NoGradGuard no_grad;
  for (auto& [target, source] : copies) core::copy_(target, *source);
  return report;
}

int64_t Module::register_forward_hook(ForwardHook hook) {
  forward_hooks_.emplace_back(next_hook_handle_, std::move(hook));
  return next_hook_handle_++;
}

void Module::remove_forward_hook(int64_t handle) {
  std::erase_if(forward_hooks_, [&](const auto& entry) { return entry.first == handle; });
}

int64_t Module::register_input_transform(InputTransform transform) {
  input_transforms_.emplace_back(next_hook_handle_, std::move(transform));
  return next_hook_handle_++;
}

void Module::remove_input_transform(int64_t handle) {
  std::erase_if(input_transforms_, [&](const auto& entry) { return entry.first == handle; });
}

int64_t Module::register_output_transform(OutputTransform transform) {
  output_transforms_.emplace_back(next_hook_handle_, std::move(transform));
  return next_hook_handle_++;
}

void Module::remove_output_transform(int64_t handle) {
  std::erase_if(output_transforms_, [&](const auto& entry) { return entry.first == handle; });
}

std::string Module::summary(const Shape& input_shape) {
  struct Row {
    std::string name;
    std::string shape;
    int64_t params;
  };
  std::vector<Row> rows;
  std::vector<std::pair<Module*, int64_t>> hooked;
  for (auto& [name, module] : named_modules()) {
    if (module == this) continue;
    std::string label = name + " (" + module->type_name() + ")";
    int64_t own = 0;
    for (const auto& p : module->parameters(/*recurse=*/false)) own += p.numel();
    int64_t handle = module->register_forward_hook(
        [&rows, label, own](Module&, const Tensor&, const Tensor& output) {
          rows.push_back({label, shape_string(output.shape()), own});
        });
    hooked.emplace_back(module, handle);
  }

  bool was_training = training_;
  Tensor output;
  try {
    NoGradGuard no_grad;
    eval();
    TensorOptions options;
    std::vector<Tensor> params = parameters();
    if (!params.empty()) {
      options.device = params.front().device();
      options.dtype = params.front().dtype();
    }
    output = (*this)(zeros(input_shape, options));
  } catch (...) {
    for (auto& [module, handle] : hooked) module->remove_forward_hook(handle);
    train(was_training);
    throw;
  }
  for (auto& [module, handle] : hooked) module->remove_forward_hook(handle);
  train(was_training);

  size_t name_width = 5, shape_width = 12;
  for (const Row& row : rows) {
    name_width = std::max(name_width, row.name.size());
    shape_width = std::max(shape_width, row.shape.size());
  }
  std::ostringstream os;
  os << std::left << std::setw(name_width + 2) << "layer" << std::setw(shape_width + 2)
     << "output shape" << std::right << std::setw(12) << "params"
     << "\n";
  os << std::string(name_width + shape_width + 16, '-') << "\n";
  for (const Row& row : rows) {
    os << std::left << std::setw(name_width + 2) << row.name << std::setw(shape_width + 2)
       << row.shape << std::right << std::setw(12) << row.params << "\n";
  }
  os << std::string(name_width + shape_width + 16, '-') << "\n";
  os << "input " << input_shape << " -> output " << output.shape() << "\n";
  os << "parameters: " << num_parameters() << " (trainable " << num_parameters(true) << ")\n";
  return os.str();
}

void Module::print(std::ostream& os, int indent) const {
  os << type_name_ << "(" << extra_repr();
  if (!children_.empty()) {
    os << "\n";
    for (const auto& [name, child] : children_) {
      os << std::string(indent + 2, ' ') << "(" << name << "): ";
      child->print(os, indent + 2);
      os << "\n";
    }
    os << std::string(indent, ' ');
  }
  os << ")";
}

std::ostream& operator<<(std::ostream& os, const Module& module) {
  module.print(os, 0);
  return os;
}

}  // namespace nabla::nn
