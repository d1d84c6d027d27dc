// In-place updates through core, guarded against silently breaking the graph.
#include "autograd/ops/inplace.h"

#include "autograd/grad_mode.h"
#include "core/ops.h"

namespace nabla {

namespace {
void check_inplace(const char* op, const Tensor& self, const Tensor& other = Tensor()) {
  NABLA_CHECK(self.defined(), ValueError, op, ": got an undefined tensor");
  if (!GradMode::is_enabled()) return;
  NABLA_CHECK(!self.requires_grad() && !(other.defined() && other.requires_grad()), AutogradError,
              op,
              ": in-place ops record no gradient, and a tensor involved requires grad; run the "
              "update under NoGradGuard, or use the out-of-place op");
}
}  // namespace

const Tensor& add_(const Tensor& self, const Tensor& other, double alpha) {
  check_inplace("add_", self, other);
  core::binary_(BinaryOp::add, self,
                alpha == 1 ? other : core::binary(BinaryOp::mul, other, alpha));
  return self;
}

const Tensor& add_(const Tensor& self, double other) {
  check_inplace("add_", self);
  core::binary_(BinaryOp::add, self, other);
  return self;
}

const Tensor& sub_(const Tensor& self, const Tensor& other) {
  check_inplace("sub_", self, other);
  core::binary_(BinaryOp::sub, self, other);
  return self;
}

const Tensor& mul_(const Tensor& self, const Tensor& other) {
  check_inplace("mul_", self, other);
  core::binary_(BinaryOp::mul, self, other);
  return self;
}

const Tensor& mul_(const Tensor& self, double other) {
  check_inplace("mul_", self);
  core::binary_(BinaryOp::mul, self, other);
  return self;
}

const Tensor& div_(const Tensor& self, const Tensor& other) {
  check_inplace("div_", self, other);
  core::binary_(BinaryOp::div, self, other);
  return self;
}

const Tensor& div_(const Tensor& self, double other) {
  check_inplace("div_", self);
  core::binary_(BinaryOp::div, self, other);
  return self;
}

const Tensor& addcmul_(const Tensor& self, const Tensor& a, const Tensor& b, double value) {
  check_inplace("addcmul_", self, a);
  check_inplace("addcmul_", self, b);
  Tensor product = core::binary(BinaryOp::mul, a, b);
  if (value != 1) core::binary_(BinaryOp::mul, product, value);
  core::binary_(BinaryOp::add, self, product);
  return self;
}

const Tensor& addcdiv_(const Tensor& self, const Tensor& a, const Tensor& b, double value) {
  check_inplace("addcdiv_", self, a);
  check_inplace("addcdiv_", self, b);
  Tensor quotient = core::binary(BinaryOp::div, a, b);
  if (value != 1) core::binary_(BinaryOp::mul, quotient, value);
  core::binary_(BinaryOp::add, self, quotient);
  return self;
}

const Tensor& sqrt_(const Tensor& self) {
  check_inplace("sqrt_", self);
  core::unary_(UnaryOp::sqrt, self);
  return self;
}

const Tensor& clamp_(const Tensor& self, double min, double max) {
  check_inplace("clamp_", self);
  core::unary_(UnaryOp::clamp, self, min, max);
  return self;
}

const Tensor& copy_(const Tensor& self, const Tensor& src) {
  check_inplace("copy_", self, src);
  core::copy_(self, src);
  return self;
}

const Tensor& fill_(const Tensor& self, double value) {
  check_inplace("fill_", self);
  core::fill_(self, value);
  return self;
}

const Tensor& zero_(const Tensor& self) { return fill_(self, 0); }

const Tensor& uniform_(const Tensor& self, double from, double to) {
  check_inplace("uniform_", self);
  core::random_(self, RandomKind::uniform, from, to);
  return self;
}

const Tensor& normal_(const Tensor& self, double mean, double std) {
  check_inplace("normal_", self);
  core::random_(self, RandomKind::normal, mean, std);
  return self;
}

const Tensor& bernoulli_(const Tensor& self, double p) {
  check_inplace("bernoulli_", self);
  core::random_(self, RandomKind::bernoulli, p, 0);
  return self;
}

void zero_grad(const std::vector<Tensor>& tensors, bool set_to_none) {
  for (const Tensor& t : tensors) {
    Tensor g = t.grad();
    if (!g.defined()) continue;
    if (set_to_none) {
      t.set_grad(Tensor());
    } else {
      NoGradGuard no_grad;
      fill_(g, 0);
    }
  }
}

}  // namespace nabla
