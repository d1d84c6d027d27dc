// TensorImpl: what a Tensor handle points at. A view is another TensorImpl over the same Storage
// with its own shape, strides (in elements) and offset.
#pragma once

#include <memory>

#include "core/dtype.h"
#include "core/shape.h"
#include "core/storage.h"

namespace nabla {

// The autograd slot. Core only stores it; core/autograd_meta.h lays out its data and autograd/
// gives that data its meaning. It stays null for tensors that never took part in a gradient.
struct AutogradMeta;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Strides strides;
  int64_t offset = 0;
  DType dtype = kFloat32;
  std::shared_ptr<AutogradMeta> autograd;
};

}  // namespace nabla
