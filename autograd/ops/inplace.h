// In-place updates, for optimizers and initializers. They record no gradient, so they refuse a
// tensor that requires grad while grad mode is on: run them under NoGradGuard.
#pragma once

#include "core/tensor.h"

namespace nabla {

// self += alpha * other (other broadcast to self); the rest likewise. Each returns self.
const Tensor& add_(const Tensor& self, const Tensor& other, double alpha = 1);
const Tensor& add_(const Tensor& self, double other);
const Tensor& sub_(const Tensor& self, const Tensor& other);
const Tensor& mul_(const Tensor& self, const Tensor& other);
const Tensor& mul_(const Tensor& self, double other);
const Tensor& div_(const Tensor& self, const Tensor& other);
const Tensor& div_(const Tensor& self, double other);
// self += value * a * b and self += value * a / b: Adam-style moment updates.
const Tensor& addcmul_(const Tensor& self, const Tensor& a, const Tensor& b, double value = 1);
const Tensor& addcdiv_(const Tensor& self, const Tensor& a, const Tensor& b, double value = 1);
const Tensor& sqrt_(const Tensor& self);
const Tensor& clamp_(const Tensor& self, double min, double max);
const Tensor& copy_(const Tensor& self, const Tensor& src);
const Tensor& fill_(const Tensor& self, double value);
const Tensor& zero_(const Tensor& self);
// Draws from the default generator of self's device.
const Tensor& uniform_(const Tensor& self, double from = 0, double to = 1);
const Tensor& normal_(const Tensor& self, double mean = 0, double std = 1);
// 1 with probability p, else 0.
const Tensor& bernoulli_(const Tensor& self, double p);

inline const Tensor& operator+=(const Tensor& self, const Tensor& other) {
  return add_(self, other);
}
inline const Tensor& operator+=(const Tensor& self, double other) { return add_(self, other); }
inline const Tensor& operator-=(const Tensor& self, const Tensor& other) {
  return sub_(self, other);
}
inline const Tensor& operator-=(const Tensor& self, double other) { return add_(self, -other); }
inline const Tensor& operator*=(const Tensor& self, const Tensor& other) {
  return mul_(self, other);
}
inline const Tensor& operator*=(const Tensor& self, double other) { return mul_(self, other); }
inline const Tensor& operator/=(const Tensor& self, const Tensor& other) {
  return div_(self, other);
}
inline const Tensor& operator/=(const Tensor& self, double other) { return div_(self, other); }

// Sets grad() of each tensor to undefined (the default, freeing memory) or to zeros.
void zero_grad(const std::vector<Tensor>& tensors, bool set_to_none = true);

}  // namespace nabla
