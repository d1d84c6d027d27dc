// View ops: new shapes and strides over the same storage.
#include <algorithm>
#include <numeric>

#include "core/ops.h"

namespace nabla::core {

namespace {
Tensor make_view(const Tensor& x, Shape shape, Strides strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = x.storage();
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = x.dtype();
  return Tensor(std::move(impl));
}

// Strides for viewing x as `shape` without a copy, or nothing if x's layout cannot express it.
// Walks both shapes in chunks whose element counts match; each chunk of x must be contiguous.
std::optional<Strides> view_strides(const Tensor& x, const Shape& shape) {
  Strides out(shape.size());
  if (x.numel() == 0 || x.dim() == 0) return contiguous_strides(shape);
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
  int64_t chunk_base_stride = x.strides().back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = x.dim() - 1; d >= 0; --d) {
    tensor_numel *= x.size(d);
    // A chunk ends where x's dims stop being contiguous with each other.
    if (d == 0 || (x.size(d - 1) != 1 && x.stride(d - 1) != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        out[view_d] = view_numel * chunk_base_stride;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) {
        chunk_base_stride = x.stride(d - 1);
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return out;
}
}  // namespace

Tensor as_strided(const Tensor& x, const Shape& shape, const Strides& strides, int64_t offset) {
  return make_view(x, shape, strides, offset);
}

Tensor alias(const Tensor& x) { return make_view(x, x.shape(), x.strides(), x.offset()); }

void set_data(const Tensor& t, const Tensor& source) {
  TensorImpl& impl = *t.impl();
  impl.storage = source.storage();
  impl.shape = source.shape();
  impl.strides = source.strides();
  impl.offset = source.offset();
  impl.dtype = source.dtype();
}

Shape infer_shape(const Tensor& x, const Shape& shape, const char* op) {
  Shape out = shape;
  int64_t known = 1, infer_at = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      NABLA_CHECK(infer_at < 0, ShapeError, op, ": shape ", shape, " has more than one -1");
      infer_at = static_cast<int64_t>(i);
    } else {
      NABLA_CHECK(out[i] >= 0, ShapeError, op, ": shape ", shape, " has a negative size");
      known *= out[i];
    }
  }
  if (infer_at >= 0) {
    NABLA_CHECK(known != 0 && x.numel() % known == 0, ShapeError, op, ": cannot view shape ",
                x.shape(), " (", x.numel(), " elements) as ", shape);
    out[infer_at] = x.numel() / known;
  }
  NABLA_CHECK(numel(out) == x.numel(), ShapeError, op, ": shape ", shape, " holds ", numel(out),
              " elements but the input ", x.shape(), " has ", x.numel());
  return out;
}

Tensor view(const Tensor& x, const Shape& shape) {
  Shape resolved = infer_shape(x, shape, "view");
  std::optional<Strides> strides = view_strides(x, resolved);
  NABLA_CHECK(strides.has_value(), ShapeError, "view: a tensor of shape ", x.shape(),
              " and strides ", x.strides(), " cannot be viewed as ", resolved,
              " without a copy (use reshape)");
  return make_view(x, resolved, *strides, x.offset());
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  Shape resolved = infer_shape(x, shape, "reshape");
  if (std::optional<Strides> strides = view_strides(x, resolved))
    return make_view(x, resolved, *strides, x.offset());
  return view(contiguous(x), resolved);
}

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  std::vector<int64_t> order(x.dim());
  std::iota(order.begin(), order.end(), 0);
  std::swap(order[wrap_dim(dim0, x.dim(), "transpose")],
            order[wrap_dim(dim1, x.dim(), "transpose")]);
  return permute(x, order);
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  NABLA_CHECK(static_cast<int64_t>(dims.size()) == x.dim(), ShapeError, "permute: ", dims.size(),
              " dims given for a ", x.dim(), "-d tensor of shape ", x.shape());
  Shape shape(x.dim());
  Strides strides(x.dim());
  std::vector<bool> seen(x.dim(), false);
  for (int64_t i = 0; i < x.dim(); ++i) {
    int64_t d = wrap_dim(dims[i], x.dim(), "permute");
    NABLA_CHECK(!seen[d], IndexError, "permute: dim ", d, " appears twice");
    seen[d] = true;
    shape[i] = x.size(d);
    strides[i] = x.stride(d);
  }
  return make_view(x, shape, strides, x.offset());
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  dim = wrap_dim(dim, x.dim(), "slice");
  NABLA_CHECK(step > 0, ValueError, "slice: step must be positive, got ", step);
  const int64_t size = x.size(dim);
  auto clamp_index = [size](int64_t i) {
    if (i < 0) i += size;
    return std::clamp<int64_t>(i, 0, size);
  };
  start = clamp_index(start);
  end = std::max(clamp_index(end), start);
  Shape shape = x.shape();
  Strides strides = x.strides();
  shape[dim] = (end - start + step - 1) / step;
  strides[dim] *= step;
  return make_view(x, shape, strides, x.offset() + start * x.stride(dim));
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  dim = wrap_dim(dim, x.dim(), "select");
  const int64_t size = x.size(dim);
  NABLA_CHECK(index >= -size && index < size, IndexError, "select: index ", index,
              " is out of range for dim ", dim, " of size ", size);
  if (index < 0) index += size;
  Shape shape = x.shape();
  Strides strides = x.strides();
  shape.erase(shape.begin() + dim);
  strides.erase(strides.begin() + dim);
  return make_view(x, shape, strides, x.offset() + index * x.stride(dim));
}

Tensor expand(const Tensor& x, const Shape& shape) {
  NABLA_CHECK(static_cast<int64_t>(shape.size()) >= x.dim(), ShapeError, "expand: cannot expand ",
              x.shape(), " to fewer dims ", shape);
  const int64_t lead = static_cast<int64_t>(shape.size()) - x.dim();
  Shape out_shape(shape.size());
  Strides strides(shape.size(), 0);
  for (int64_t i = 0; i < static_cast<int64_t>(shape.size()); ++i) {
    int64_t want = shape[i];
    if (i < lead) {
      NABLA_CHECK(want >= 0, ShapeError, "expand: new leading dim ", i, " of ", shape,
                  " cannot be -1");
      out_shape[i] = want;
      continue;
    }
    int64_t have = x.size(i - lead);
    if (want == -1) want = have;
    NABLA_CHECK(have == want || have == 1, ShapeError, "expand: shape ", x.shape(),
                " cannot be expanded to ", shape, " (dim ", i, ": ", have, " vs ", want, ")");
    out_shape[i] = want;
    strides[i] = have == want ? x.stride(i - lead) : 0;
  }
  return make_view(x, out_shape, strides, x.offset());
}

Tensor squeeze(const Tensor& x, std::optional<int64_t> dim) {
  Shape shape;
  Strides strides;
  std::optional<int64_t> only = dim ? std::optional(wrap_dim(*dim, x.dim(), "squeeze")) : dim;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (x.size(d) == 1 && (!only || *only == d)) continue;
    shape.push_back(x.size(d));
    strides.push_back(x.stride(d));
  }
  return make_view(x, shape, strides, x.offset());
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  dim = wrap_dim(dim, x.dim() + 1, "unsqueeze");
  Shape shape = x.shape();
  Strides strides = x.strides();
  int64_t stride = dim < x.dim() ? x.stride(dim) * x.size(dim) : 1;
  shape.insert(shape.begin() + dim, 1);
  strides.insert(strides.begin() + dim, stride);
  return make_view(x, shape, strides, x.offset());
}

}  // namespace nabla::core
