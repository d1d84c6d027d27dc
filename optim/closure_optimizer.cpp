// The parameter-side helpers of closure-driven methods: gradients, search directions scaled by
// each group's learning rate, and scalars shared by every participant's state.
#include "optim/closure_optimizer.h"

#include "core/ops.h"

namespace nabla::optim {

ParamVector gradients(const Participants& ps) {
  ParamVector grads;
  for (const Participant& p : ps) {
    Tensor g = p.param.grad();
    grads.push_back(g.defined() ? core::alias(g) : zeros_like(p.param));
  }
  return grads;
}

ParamVector parameters(const Participants& ps) {
  ParamVector values;
  for (const Participant& p : ps) values.push_back(core::alias(p.param));
  return values;
}

ParamVector scaled_by_lr(const Participants& ps, const ParamVector& d) {
  NABLA_CHECK(ps.size() == d.size(), ShapeError, "scaled_by_lr: ", d.size(), " tensors for ",
              ps.size(), " parameters");
  ParamVector p;
  for (size_t i = 0; i < ps.size(); ++i) p.push_back(core::binary(BinaryOp::mul, d[i], ps[i].lr));
  return p;
}

void set_parameters(const Participants& ps, const ParamVector& x, double t, const ParamVector& p) {
  ParamVector params = parameters(ps);
  copy_(params, x);
  axpy_(params, t, p);
}

ParamVector slot_vector(const Participants& ps, const std::string& name) {
  ParamVector v;
  for (const Participant& p : ps) v.push_back(p.state->find(name));
  return v;
}

void set_slot_vector(const Participants& ps, const std::string& name, const ParamVector& v) {
  NABLA_CHECK(ps.size() == v.size(), ShapeError, "set_slot_vector: ", v.size(), " tensors for ",
              ps.size(), " parameters");
  for (size_t i = 0; i < ps.size(); ++i) ps[i].state->set(name, v[i]);
}

void erase_slot(const Participants& ps, const std::string& name) {
  for (const Participant& p : ps) p.state->tensors().erase(name);
}

double shared_scalar(const Participants& ps, const std::string& name, double initial) {
  NABLA_CHECK(!ps.empty(), ValueError, "shared_scalar: no parameter takes part in the step");
  auto it = ps[0].state->scalars().find(name);
  return it == ps[0].state->scalars().end() ? initial : it->second;
}

void set_shared_scalar(const Participants& ps, const std::string& name, double value) {
  for (const Participant& p : ps) p.state->scalars()[name] = value;
}

bool shared_scalar_agrees(const Participants& ps, const std::string& name) {
  if (ps.empty()) return true;
  const auto& first = ps[0].state->scalars();
  auto it = first.find(name);
  for (const Participant& p : ps) {
    auto other = p.state->scalars().find(name);
    bool both_missing = it == first.end() && other == p.state->scalars().end();
    bool same =
        it != first.end() && other != p.state->scalars().end() && other->second == it->second;
    if (!both_missing && !same) return false;
  }
  return true;
}

void clear_state(const Participants& ps) {
  for (const Participant& p : ps) {
    p.state->tensors().clear();
    p.state->scalars().clear();
  }
}

}  // namespace nabla::optim
