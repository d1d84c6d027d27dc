// Matrix products. Broadcasting and 1-d operands are handled by differentiable reshapes around
// one recorded product whose operands are [..., M, K] @ [..., K, N] with equal batch dims, or
// [..., M, K] @ [K, N]; transposes in its rule are views that BLAS reads in place.
#include "autograd/ops/linalg.h"

#include "autograd/ops/common.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/views.h"

namespace nabla {

using autograd::BackwardContext;
using autograd::record;
using autograd::save;
using Grads = std::vector<Tensor>;

namespace {
Tensor batched_product(const Tensor& a, const Tensor& b) {
  return record("matmul", core::matmul(a, b), {a, b},
                [sa = save(a), sb = save(b)](const BackwardContext& c) -> Grads {
                  Tensor a = sa.get(), b = sb.get();
                  Tensor ga, gb;
                  if (c.needs(0)) ga = batched_product(c.grad, transpose(b, -1, -2));
                  if (!c.needs(1)) return {ga, gb};
                  // b shared by every batch entry sums their gradients: its rows are merged.
                  Tensor rows = b.dim() == 2 ? reshape(a, {-1, a.size(-1)}) : a;
                  Tensor grads = b.dim() == 2 ? reshape(c.grad, {-1, b.size(1)}) : c.grad;
                  if (b.dim() == 2 && b.stride(0) == 1 && b.size(1) > 1) {
                    // b reads a matrix through a transpose (a Linear's weight): its gradient
                    // is made in that matrix's layout, (g^T a)^T, so that the matrix's own
                    // gradient is contiguous and is stored without a copy.
                    gb = transpose(batched_product(transpose(grads, 0, 1), rows), 0, 1);
                  } else {
                    gb = batched_product(transpose(rows, -1, -2), grads);
                  }
                  return {ga, gb};
                });
}
}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  NABLA_CHECK(a.defined() && b.defined() && a.dim() >= 1 && b.dim() >= 1, ShapeError,
              "matmul: needs defined operands of at least 1 dim");
  Tensor lhs = a.dim() == 1 ? unsqueeze(a, 0) : a;
  Tensor rhs = b.dim() == 1 ? unsqueeze(b, 1) : b;
  NABLA_CHECK(lhs.size(-1) == rhs.size(-2), ShapeError, "matmul: shapes ", a.shape(), " and ",
              b.shape(), " cannot be multiplied (", lhs.size(-1), " != ", rhs.size(-2), ")");
  Tensor out;
  if (rhs.dim() == 2) {
    out = batched_product(lhs, rhs);
  } else {
    Shape lhs_batch(lhs.shape().begin(), lhs.shape().end() - 2);
    Shape rhs_batch(rhs.shape().begin(), rhs.shape().end() - 2);
    Shape batch = broadcast_shapes(lhs_batch, rhs_batch, "matmul");
    Shape lhs_full = batch, rhs_full = batch;
    lhs_full.insert(lhs_full.end(), {lhs.size(-2), lhs.size(-1)});
    rhs_full.insert(rhs_full.end(), {rhs.size(-2), rhs.size(-1)});
    out = batched_product(expand(lhs, lhs_full), expand(rhs, rhs_full));
  }
  if (a.dim() == 1) out = squeeze(out, -2);
  if (b.dim() == 1) out = squeeze(out, -1);
  return out;
}

Tensor outer(const Tensor& a, const Tensor& b) {
  NABLA_CHECK(a.dim() == 1 && b.dim() == 1, ShapeError, "outer: needs two 1-d tensors, got ",
              a.shape(), " and ", b.shape());
  return matmul(unsqueeze(a, 1), unsqueeze(b, 0));
}

Tensor dot(const Tensor& a, const Tensor& b) {
  NABLA_CHECK(a.dim() == 1 && b.dim() == 1 && a.size(0) == b.size(0), ShapeError,
              "dot: needs two 1-d tensors of equal length, got ", a.shape(), " and ", b.shape());
  return matmul(a, b);
}

}  // namespace nabla
