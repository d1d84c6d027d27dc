// Ops that copy: contiguous, clone, copy_, dtype and device conversion, cat, and in-place fills.
#include "core/checks.h"
#include "core/generator.h"
#include "core/ops.h"

namespace nabla::core {

Tensor contiguous(const Tensor& x) {
  check_defined(x, "contiguous");
  return x.is_contiguous() ? x : clone(x);
}

Tensor clone(const Tensor& x) {
  check_defined(x, "clone");
  Tensor out = empty(x.shape(), {.dtype = x.dtype(), .device = x.device()});
  backend(x.device()).copy(x, out);
  return out;
}

void copy_(const Tensor& dst, const Tensor& src) {
  check_defined(dst, "copy_");
  check_defined(src, "copy_");
  Tensor from = expand(src, dst.shape());
  // A non-CPU backend moves data between itself and the CPU.
  Device side = dst.device().is_cpu() ? src.device() : dst.device();
  NABLA_CHECK(src.device().is_cpu() || dst.device().is_cpu() || src.device() == dst.device(),
              DeviceError, "copy_: cannot copy directly from ", src.device(), " to ", dst.device());
  backend(side).copy(from, dst);
  dst.bump_version();
}

Tensor to(const Tensor& x, DType dtype) {
  check_defined(x, "to");
  if (x.dtype() == dtype) return x;
  Tensor out = empty(x.shape(), {.dtype = dtype, .device = x.device()});
  backend(x.device()).copy(x, out);
  return out;
}

Tensor to(const Tensor& x, Device device) {
  check_defined(x, "to");
  if (x.device() == device) return x;
  Tensor out = empty(x.shape(), {.dtype = x.dtype(), .device = device});
  copy_(out, x);
  return out;
}

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  NABLA_CHECK(!tensors.empty(), ValueError, "cat: needs at least one tensor");
  const Tensor& first = tensors[0];
  check_defined(first, "cat");
  dim = wrap_dim(dim, first.dim(), "cat");
  Shape shape = first.shape();
  shape[dim] = 0;
  DType dtype = first.dtype();
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    check_same_device(first, t, "cat");
    NABLA_CHECK(t.dim() == first.dim(), ShapeError, "cat: tensor ", i, " has shape ", t.shape(),
                " but tensor 0 has shape ", first.shape(), " (dims differ)");
    for (int64_t d = 0; d < t.dim(); ++d)
      NABLA_CHECK(d == dim || t.size(d) == first.size(d), ShapeError, "cat: tensor ", i,
                  " has shape ", t.shape(), " but tensor 0 has shape ", first.shape(),
                  " (only dim ", dim, " may differ)");
    shape[dim] += t.size(dim);
    dtype = promote_types(dtype, t.dtype());
  }
  Tensor out = empty(shape, {.dtype = dtype, .device = first.device()});
  int64_t at = 0;
  for (const Tensor& t : tensors) {
    backend(out.device()).copy(t, slice(out, dim, at, at + t.size(dim)));
    at += t.size(dim);
  }
  return out;
}

void fill_(const Tensor& x, double value) {
  check_defined(x, "fill_");
  backend(x.device()).fill(x, value);
  x.bump_version();
}

void random_(const Tensor& x, RandomKind kind, double a, double b) {
  check_defined(x, "random_");
  if (kind == RandomKind::integer)
    NABLA_CHECK(a < b, ValueError, "randint: low (", a, ") must be below high (", b, ")");
  if (kind == RandomKind::uniform)
    NABLA_CHECK(a <= b, ValueError, "uniform_: from (", a, ") must not exceed to (", b, ")");
  if (kind == RandomKind::normal)
    NABLA_CHECK(b >= 0, ValueError, "normal_: std must be non-negative, got ", b);
  if (kind == RandomKind::bernoulli)
    NABLA_CHECK(a >= 0 && a <= 1, ValueError, "bernoulli_: p must be in [0, 1], got ", a);
  Tensor target =
      x.is_contiguous() ? x : empty(x.shape(), {.dtype = x.dtype(), .device = x.device()});
  Generator& gen = default_generator(x.device());
  uint64_t offset = gen.advance(x.numel());
  backend(x.device()).random(target, kind, a, b, gen.seed(), offset);
  if (!target.is_same(x)) backend(x.device()).copy(target, x);
  x.bump_version();
}

}  // namespace nabla::core
