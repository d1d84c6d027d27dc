// Per-parameter state slots, state dict lookup, and the load report's summary.
#include "optim/state.h"

#include <sstream>

#include "core/ops.h"
#include "optim/state_dict.h"

namespace nabla::optim {

namespace {
void check_slot_name(const std::string& name) {
  NABLA_CHECK(!name.empty() && name.find('.') == std::string::npos, ValueError,
              "State: slot names must be non-empty and have no '.', got '", name, "'");
}
}  // namespace

Tensor State::zeros(const std::string& name, const Tensor& like) {
  auto it = tensors_.find(name);
  if (it != tensors_.end()) return it->second;
  check_slot_name(name);
  Tensor t = zeros_like(like);
  tensors_.emplace(name, t);
  return t;
}

Tensor State::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? Tensor() : it->second;
}

void State::set(const std::string& name, Tensor value) {
  check_slot_name(name);
  tensors_.insert_or_assign(name, std::move(value));
}

double& State::scalar(const std::string& name, double initial) {
  auto it = scalars_.find(name);
  if (it != scalars_.end()) return it->second;
  check_slot_name(name);
  return scalars_.emplace(name, initial).first->second;
}

Tensor StateDict::tensor(const std::string& name) const {
  for (const auto& [key, t] : tensors)
    if (key == name) return t;
  return Tensor();
}

std::string LoadReport::to_string() const {
  std::ostringstream os;
  // Matched names are the normal case and can be many; the others are what a reader looks for.
  auto list = [&](const char* what, const std::vector<std::string>& names) {
    os << what << " " << names.size();
    if (names.empty()) return;
    os << " (";
    for (size_t i = 0; i < names.size(); ++i) os << (i ? ", " : "") << names[i];
    os << ")";
  };
  os << "matched " << matched.size() << ", ";
  list("missing", missing);
  os << ", ";
  list("unexpected", unexpected);
  os << ", ";
  list("mismatched", mismatched);
  return os.str();
}

}  // namespace nabla::optim
