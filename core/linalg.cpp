// matmul with PyTorch's semantics: 1-d operands gain and then lose a dim, batch dims broadcast.
#include "core/checks.h"
#include "core/ops.h"

namespace nabla::core {

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_same_device(a, b, "matmul");
  NABLA_CHECK(a.dim() >= 1 && b.dim() >= 1, ShapeError,
              "matmul: needs operands of at least 1 dim, got shapes ", a.shape(), " and ",
              b.shape());
  NABLA_CHECK(is_floating(a.dtype()) && is_floating(b.dtype()), DTypeError,
              "matmul: needs floating operands, got ", a.dtype(), " and ", b.dtype());
  Tensor lhs = a.dim() == 1 ? unsqueeze(a, 0) : a;  // [..., M, K]
  Tensor rhs = b.dim() == 1 ? unsqueeze(b, 1) : b;  // [..., K, N]
  const int64_t m = lhs.size(-2), k = lhs.size(-1), n = rhs.size(-1);
  NABLA_CHECK(k == rhs.size(-2), ShapeError, "matmul: shapes ", a.shape(), " and ", b.shape(),
              " cannot be multiplied (", k, " != ", rhs.size(-2), ")");
  DType dtype = promote_types(a.dtype(), b.dtype());
  lhs = to(lhs, dtype);
  rhs = to(rhs, dtype);

  Shape lhs_batch(lhs.shape().begin(), lhs.shape().end() - 2);
  Shape rhs_batch(rhs.shape().begin(), rhs.shape().end() - 2);
  Shape batch = broadcast_shapes(lhs_batch, rhs_batch, "matmul");
  Shape out_shape = batch;
  if (a.dim() > 1) out_shape.push_back(m);
  if (b.dim() > 1) out_shape.push_back(n);

  Tensor out;
  if (rhs_batch.empty() && !lhs_batch.empty()) {
    // [B..., M, K] @ [K, N] is one [B * M, K] @ [K, N] product: a single, larger GEMM.
    Tensor flat = reshape(lhs, {numel(lhs_batch) * m, k});
    out = empty({1, flat.size(0), n}, {.dtype = dtype, .device = a.device()});
    backend(a.device()).matmul(unsqueeze(flat, 0), unsqueeze(rhs, 0), out);
  } else {
    Shape lhs_full = batch, rhs_full = batch;
    lhs_full.insert(lhs_full.end(), {m, k});
    rhs_full.insert(rhs_full.end(), {k, n});
    Tensor lhs3 = reshape(expand(lhs, lhs_full), {numel(batch), m, k});
    Tensor rhs3 = reshape(expand(rhs, rhs_full), {numel(batch), k, n});
    out = empty({lhs3.size(0), m, n}, {.dtype = dtype, .device = a.device()});
    backend(a.device()).matmul(lhs3, rhs3, out);
  }
  return view(out, out_shape);
}

}  // namespace nabla::core
