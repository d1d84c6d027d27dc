// Sequential and ModuleList.
#include "nn/containers.h"

#include "core/error.h"

namespace nabla::nn {

Sequential::Sequential(std::initializer_list<std::shared_ptr<Module>> modules)
    : Sequential(std::vector<std::shared_ptr<Module>>(modules)) {}

Sequential::Sequential(const std::vector<std::shared_ptr<Module>>& modules) : Module("Sequential") {
  for (const auto& module : modules) push_back(module);
}

Sequential& Sequential::push_back(std::shared_ptr<Module> module) {
  return push_back(std::to_string(modules_.size()), std::move(module));
}

Sequential& Sequential::push_back(const std::string& name, std::shared_ptr<Module> module) {
  modules_.push_back(register_module(name, std::move(module)));
  return *this;
}

std::shared_ptr<Sequential> sequential(const std::vector<std::shared_ptr<Module>>& modules) {
  return std::make_shared<Sequential>(modules);
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (const auto& module : modules_) y = (*module)(y);
  return y;
}

const std::shared_ptr<Module>& Sequential::operator[](size_t i) const {
  NABLA_CHECK(i < modules_.size(), IndexError, "Sequential: index ", i, " is out of range for ",
              modules_.size(), " modules");
  return modules_[i];
}

ModuleList::ModuleList(std::initializer_list<std::shared_ptr<Module>> modules)
    : Module("ModuleList") {
  for (const auto& module : modules) push_back(module);
}

ModuleList& ModuleList::push_back(std::shared_ptr<Module> module) {
  modules_.push_back(register_module(std::to_string(modules_.size()), std::move(module)));
  return *this;
}

const std::shared_ptr<Module>& ModuleList::operator[](size_t i) const {
  NABLA_CHECK(i < modules_.size(), IndexError, "ModuleList: index ", i, " is out of range for ",
              modules_.size(), " modules");
  return modules_[i];
}

}  // namespace nabla::nn
