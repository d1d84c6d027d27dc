// Indexing ops with their gradient rules: gather and scatter_add are each other's adjoints, as
// are index_select and index_add.
#include "autograd/ops/indexing.h"

#include "autograd/ops/common.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/views.h"
#include "core/checks.h"

namespace nabla {

using autograd::BackwardContext;
using autograd::Like;
using autograd::record;
using Grads = std::vector<Tensor>;

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  return record("gather", core::gather(x, dim, index), {x},
                [like = Like(x), dim, index](const BackwardContext& c) -> Grads {
                  return {scatter_add(zeros(like.shape, like.options()), dim, index, c.grad)};
                });
}

Tensor scatter_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  NABLA_CHECK(!src.requires_grad() || src.shape() == index.shape(), ShapeError,
              "scatter_add: to differentiate src, src ", src.shape(), " and index ", index.shape(),
              " must have the same shape");
  return record("scatter_add", core::scatter_add(self, dim, index, src), {self, src},
                [dim, index, ls = Like(src)](const BackwardContext& c) -> Grads {
                  return {c.needs(0) ? c.grad : Tensor(),
                          c.needs(1) ? to(gather(c.grad, dim, index), ls.dtype) : Tensor()};
                });
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  return record("index_select", core::index_select(x, dim, index), {x},
                [like = Like(x), dim, index](const BackwardContext& c) -> Grads {
                  return {index_add(zeros(like.shape, like.options()), dim, index, c.grad)};
                });
}

Tensor index_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  return record("index_add", core::index_add(self, dim, index, src), {self, src},
                [dim, index, ls = Like(src)](const BackwardContext& c) -> Grads {
                  return {c.needs(0) ? c.grad : Tensor(),
                          c.needs(1) ? to(index_select(c.grad, dim, index), ls.dtype) : Tensor()};
                });
}

Tensor one_hot(const Tensor& labels, int64_t num_classes) {
  check_index_dtype(labels, "one_hot");
  NABLA_CHECK(num_classes > 0, ValueError, "one_hot: num_classes must be positive, got ",
              num_classes);
  if (labels.numel() > 0) {
    int64_t lo = core::reduce(ReduceOp::min, labels, {}, false).item<int64_t>();
    int64_t hi = core::reduce(ReduceOp::max, labels, {}, false).item<int64_t>();
    NABLA_CHECK(lo >= 0 && hi < num_classes, IndexError, "one_hot: label ", lo < 0 ? lo : hi,
                " is outside [0, ", num_classes, ")");
  }
  Tensor classes =
      arange(static_cast<double>(num_classes), {.dtype = kInt64, .device = labels.device()});
  return core::to(core::binary(BinaryOp::eq, core::unsqueeze(labels, -1), classes), kInt64);
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  return where(mask, value, x);
}

}  // namespace nabla
