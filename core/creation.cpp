// Tensor creation.
#include "core/creation.h"

#include <cmath>
#include <cstring>

#include "core/backend.h"
#include "core/ops.h"

namespace nabla {

namespace {
Tensor finish(Tensor t, const TensorOptions& options) {
  if (options.requires_grad) t.requires_grad_(true);
  return t;
}
}  // namespace

Tensor empty(const Shape& shape, TensorOptions options) {
  for (int64_t s : shape)
    NABLA_CHECK(s >= 0, ShapeError, "empty: shape ", shape, " has a negative size");
  auto impl = std::make_shared<TensorImpl>();
  size_t nbytes = static_cast<size_t>(numel(shape)) * itemsize(options.dtype);
  impl->storage =
      std::make_shared<Storage>(nbytes, options.device, backend(options.device).allocator());
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = options.dtype;
  return finish(Tensor(std::move(impl)), options);
}

Tensor full(const Shape& shape, double value, TensorOptions options) {
  Tensor t = empty(shape, {.dtype = options.dtype, .device = options.device});
  core::fill_(t, value);
  return finish(t, options);
}

Tensor zeros(const Shape& shape, TensorOptions options) { return full(shape, 0, options); }
Tensor ones(const Shape& shape, TensorOptions options) { return full(shape, 1, options); }
Tensor scalar_tensor(double value, TensorOptions options) { return full({}, value, options); }

Tensor arange(double end, TensorOptions options) { return arange(0, end, 1, options); }

Tensor arange(double start, double end, double step, TensorOptions options) {
  NABLA_CHECK(step != 0, ValueError, "arange: step must be nonzero");
  NABLA_CHECK(std::isfinite(start) && std::isfinite(end), ValueError,
              "arange: bounds must be finite, got ", start, " and ", end);
  double count = std::ceil((end - start) / step);
  std::vector<double> values(static_cast<size_t>(std::max(count, 0.0)));
  for (size_t i = 0; i < values.size(); ++i) values[i] = start + static_cast<double>(i) * step;
  return from_vector(values, {}, options);
}

Tensor linspace(double start, double end, int64_t steps, TensorOptions options) {
  NABLA_CHECK(steps >= 0, ValueError, "linspace: steps must be non-negative, got ", steps);
  std::vector<double> values(steps);
  double delta = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0;
  for (int64_t i = 0; i < steps; ++i) values[i] = start + static_cast<double>(i) * delta;
  if (steps > 1) values.back() = end;
  return from_vector(values, {}, options);
}

Tensor eye(int64_t n, TensorOptions options) { return eye(n, n, options); }

Tensor eye(int64_t n, int64_t m, TensorOptions options) {
  NABLA_CHECK(n >= 0 && m >= 0, ValueError, "eye: sizes must be non-negative, got ", n, " and ", m);
  Tensor t = zeros({n, m}, {.dtype = options.dtype, .device = options.device});
  Tensor diagonal = core::as_strided(t, {std::min(n, m)}, {m + 1}, 0);
  core::fill_(diagonal, 1);
  return finish(t, options);
}

namespace {
Tensor random_tensor(const Shape& shape, TensorOptions options, RandomKind kind, double a,
                     double b) {
  Tensor t = empty(shape, {.dtype = options.dtype, .device = options.device});
  core::random_(t, kind, a, b);
  return finish(t, options);
}
}  // namespace

Tensor rand(const Shape& shape, TensorOptions options) {
  NABLA_CHECK(is_floating(options.dtype), DTypeError, "rand: needs a floating dtype, got ",
              options.dtype);
  return random_tensor(shape, options, RandomKind::uniform, 0, 1);
}

Tensor randn(const Shape& shape, TensorOptions options) {
  NABLA_CHECK(is_floating(options.dtype), DTypeError, "randn: needs a floating dtype, got ",
              options.dtype);
  return random_tensor(shape, options, RandomKind::normal, 0, 1);
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, TensorOptions options) {
  return random_tensor(shape, options, RandomKind::integer, static_cast<double>(low),
                       static_cast<double>(high));
}

Tensor from_blob(void* data, const Shape& shape, DType dtype, Storage::Deleter deleter) {
  auto impl = std::make_shared<TensorImpl>();
  size_t nbytes = static_cast<size_t>(numel(shape)) * itemsize(dtype);
  impl->storage = std::make_shared<Storage>(data, nbytes, Device::cpu(), std::move(deleter));
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor detail::from_host_bytes(const void* data, size_t count, DType source, const Shape& shape,
                               TensorOptions options) {
  NABLA_CHECK(static_cast<int64_t>(count) == numel(shape), ShapeError, "from_vector: ", count,
              " values cannot fill shape ", shape);
  Tensor host = from_blob(const_cast<void*>(data), shape, source);
  Tensor out = empty(shape, {.dtype = options.dtype, .device = options.device});
  core::copy_(out, host);
  return finish(out, options);
}

Tensor empty_like(const Tensor& t) {
  return empty(t.shape(), {.dtype = t.dtype(), .device = t.device()});
}
Tensor zeros_like(const Tensor& t) {
  return zeros(t.shape(), {.dtype = t.dtype(), .device = t.device()});
}
Tensor ones_like(const Tensor& t) {
  return ones(t.shape(), {.dtype = t.dtype(), .device = t.device()});
}
Tensor full_like(const Tensor& t, double value) {
  return full(t.shape(), value, {.dtype = t.dtype(), .device = t.device()});
}
Tensor rand_like(const Tensor& t) {
  return rand(t.shape(), {.dtype = t.dtype(), .device = t.device()});
}
Tensor randn_like(const Tensor& t) {
  return randn(t.shape(), {.dtype = t.dtype(), .device = t.device()});
}

}  // namespace nabla
