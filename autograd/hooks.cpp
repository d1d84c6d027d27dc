// Tensor hooks: on a leaf they live in its autograd slot and run before accumulation; on a
// non-leaf they run on the gradient arriving at the node that produced it.
#include "autograd/hooks.h"

#include "autograd/node.h"
#include "core/ops.h"

namespace nabla {

void register_hook(const Tensor& t, std::function<Tensor(const Tensor&)> hook) {
  NABLA_CHECK(t.defined() && t.requires_grad(), AutogradError,
              "register_hook: the tensor does not require grad, so it never gets a gradient");
  AutogradMeta& meta = autograd::autograd_meta(t);
  if (meta.grad_fn) {
    meta.grad_fn->pre_hooks.push_back(std::move(hook));
  } else {
    meta.hooks.push_back(std::move(hook));
  }
}

void retain_grad(const Tensor& t) {
  NABLA_CHECK(t.defined() && t.requires_grad(), AutogradError,
              "retain_grad: the tensor does not require grad");
  AutogradMeta& meta = autograd::autograd_meta(t);
  if (t.is_leaf() || meta.retains_grad) return;
  meta.retains_grad = true;
  // A weak reference: the node outlives the tensor it produced, and must not keep it alive.
  std::weak_ptr<TensorImpl> weak = t.impl_ptr();
  meta.grad_fn->pre_hooks.push_back([weak](const Tensor& grad) {
    if (auto impl = weak.lock()) {
      Tensor self(impl);
      Tensor previous = self.grad();
      self.set_grad(previous.defined() ? core::binary(BinaryOp::add, previous, grad)
                                       : core::clone(grad));
    }
    return Tensor();
  });
}

}  // namespace nabla
