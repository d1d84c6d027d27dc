// Tensor: a cheap, shared handle to a TensorImpl. Copying a Tensor shares its data, like PyTorch.
// The ops live elsewhere: differentiable ones in autograd/ops, untracked ones in core/ops.h.
#pragma once

#include <iosfwd>
#include <memory>
#include <vector>

#include "core/tensor_impl.h"

namespace nabla {

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }

  const Shape& shape() const { return impl_->shape; }
  const Strides& strides() const { return impl_->strides; }
  int64_t dim() const { return static_cast<int64_t>(impl_->shape.size()); }
  int64_t size(int64_t dim) const;
  int64_t stride(int64_t dim) const;
  int64_t numel() const { return nabla::numel(impl_->shape); }
  int64_t offset() const { return impl_->offset; }
  DType dtype() const { return impl_->dtype; }
  Device device() const { return impl_->storage->device(); }
  const std::shared_ptr<Storage>& storage() const { return impl_->storage; }
  bool is_contiguous() const;

  // The address of element [0, 0, ...]: storage start plus offset.
  void* raw_data() const {
    return static_cast<char*>(impl_->storage->data()) + impl_->offset * itemsize(impl_->dtype);
  }
  // Typed access for CPU tensors; T must match the dtype.
  template <class T>
  T* data() const {
    check_access(dtype_of<T>(), "data");
    return static_cast<T*>(raw_data());
  }
  // The value of a one-element tensor, converted to T (copied from the device if needed).
  template <class T = double>
  T item() const {
    check_one_element("item");
    return to_vector<T>()[0];
  }
  // All elements in row-major order, converted to T, wherever the tensor lives.
  template <class T>
  std::vector<T> to_vector() const;

  // Autograd state, stored in the slot that autograd/ fills.
  bool requires_grad() const;
  // Marks a leaf as a parameter whose gradient backward() should accumulate.
  Tensor& requires_grad_(bool requires_grad = true);
  // The accumulated gradient; undefined until a backward pass reaches this tensor.
  Tensor grad() const;
  void set_grad(const Tensor& grad) const;
  // A leaf was created by the user rather than by a recorded op.
  bool is_leaf() const;

  uint64_t version() const { return impl_->storage->version(); }
  void bump_version() const { impl_->storage->bump_version(); }

 private:
  void check_access(DType requested, const char* what) const;
  void check_one_element(const char* what) const;
  // A contiguous CPU copy in `dtype` (this tensor itself when it already is one).
  Tensor as_cpu_contiguous(DType dtype) const;

  std::shared_ptr<TensorImpl> impl_;
};

// Prints like PyTorch: tensor([[1.0000, 2.0000], ...], shape=[2, 2], dtype=float32).
std::ostream& operator<<(std::ostream& os, const Tensor& t);

template <class T>
std::vector<T> Tensor::to_vector() const {
  Tensor c = as_cpu_contiguous(dtype_of<T>());
  const T* p = c.data<T>();
  return std::vector<T>(p, p + c.numel());
}

}  // namespace nabla
