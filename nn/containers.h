// Containers: Sequential runs its children in order; ModuleList only holds them.
#pragma once

#include <initializer_list>
#include <memory>
#include <vector>

#include "nn/module.h"

namespace nabla::nn {

// Children are named "0", "1", ... unless given names.
//   auto net = sequential({
//       std::make_shared<Linear>(784, 128), std::make_shared<ReLU>(),
//       std::make_shared<Linear>(128, 10)});
class Sequential : public Module {
 public:
  Sequential() : Module("Sequential") {}
  Sequential(std::initializer_list<std::shared_ptr<Module>> modules);
  explicit Sequential(const std::vector<std::shared_ptr<Module>>& modules);

  Tensor forward(const Tensor& x) override;
  Sequential& push_back(std::shared_ptr<Module> module);
  Sequential& push_back(const std::string& name, std::shared_ptr<Module> module);
  size_t size() const { return modules_.size(); }
  const std::shared_ptr<Module>& operator[](size_t i) const;
  auto begin() const { return modules_.begin(); }
  auto end() const { return modules_.end(); }

 protected:
  // For models that are a Sequential underneath but print under their own name.
  explicit Sequential(std::string type_name) : Module(std::move(type_name)) {}

 private:
  std::vector<std::shared_ptr<Module>> modules_;
};

// make_shared<Sequential> for a braced list, which make_shared cannot forward.
std::shared_ptr<Sequential> sequential(const std::vector<std::shared_ptr<Module>>& modules);

// A list of modules whose parameters are registered (named "0", "1", ...); the owner decides
// how to call them.
class ModuleList : public Module {
 public:
  ModuleList() : Module("ModuleList") {}
  ModuleList(std::initializer_list<std::shared_ptr<Module>> modules);

  ModuleList& push_back(std::shared_ptr<Module> module);
  size_t size() const { return modules_.size(); }
  const std::shared_ptr<Module>& operator[](size_t i) const;
  auto begin() const { return modules_.begin(); }
  auto end() const { return modules_.end(); }

 private:
  std::vector<std::shared_ptr<Module>> modules_;
};

}  // namespace nabla::nn
