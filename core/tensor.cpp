// Tensor handle methods: metadata, element access and the autograd slot's plain data.
#include "core/tensor.h"

#include "core/autograd_meta.h"
#include "core/ops.h"

namespace nabla {

int64_t Tensor::size(int64_t dim) const {
  NABLA_CHECK(this->dim() > 0, IndexError, "size: a 0-d tensor has no dims");
  return shape()[wrap_dim(dim, this->dim(), "size")];
}

int64_t Tensor::stride(int64_t dim) const {
  NABLA_CHECK(this->dim() > 0, IndexError, "stride: a 0-d tensor has no dims");
  return strides()[wrap_dim(dim, this->dim(), "stride")];
}

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (int64_t d = dim() - 1; d >= 0; --d) {
    if (shape()[d] == 1) continue;  // a size-1 dim's stride never matters
    if (strides()[d] != expected) return false;
    expected *= shape()[d];
  }
  return true;
}

void Tensor::check_access(DType requested, const char* what) const {
  NABLA_CHECK(defined(), ValueError, what, ": the tensor is undefined");
  NABLA_CHECK(requested == dtype(), DTypeError, what, ": asked for ", requested, " elements of a ",
              dtype(), " tensor");
  NABLA_CHECK(device().is_cpu(), DeviceError, what, ": the tensor is on ", device(),
              "; move it with to(Device::cpu()) first");
}

void Tensor::check_one_element(const char* what) const {
  NABLA_CHECK(defined(), ValueError, what, ": the tensor is undefined");
  NABLA_CHECK(numel() == 1, ValueError, what, ": needs a tensor with one element, got shape ",
              shape());
}

Tensor Tensor::as_cpu_contiguous(DType dtype) const {
  NABLA_CHECK(defined(), ValueError, "to_vector: the tensor is undefined");
  Tensor t = core::to(core::to(*this, Device::cpu()), dtype);
  return core::contiguous(t);
}

bool Tensor::requires_grad() const { return impl_->autograd && impl_->autograd->requires_grad; }

Tensor& Tensor::requires_grad_(bool requires_grad) {
  NABLA_CHECK(is_leaf(), ValueError,
              "requires_grad_: only leaves can change requires_grad; this tensor was computed "
              "by an op (use detach() to get a leaf)");
  NABLA_CHECK(!requires_grad || is_floating(dtype()), DTypeError,
              "requires_grad_: only floating-point tensors can require gradients, got ", dtype());
  if (!impl_->autograd) impl_->autograd = std::make_shared<AutogradMeta>();
  impl_->autograd->requires_grad = requires_grad;
  return *this;
}

Tensor Tensor::grad() const { return impl_->autograd ? impl_->autograd->grad : Tensor(); }

void Tensor::set_grad(const Tensor& grad) const {
  if (!impl_->autograd) impl_->autograd = std::make_shared<AutogradMeta>();
  impl_->autograd->grad = grad;
}

bool Tensor::is_leaf() const { return !impl_->autograd || !impl_->autograd->grad_fn; }

}  // namespace nabla
