// CPU gather, scatter_add, index_select and index_add. Each pairs a tensor with an index tensor
// restrided so that both walk the same shape: the indexed dim gets stride 0 in the data tensor,
// and the index value times that dim's stride is added per element. Scatters run on one thread,
// since two elements may add into the same place, except along the last dim of contiguous
// tensors, where each row has its own output row.
#include <limits>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/loops.h"
#include "core/ops.h"

namespace nabla {

namespace {

// `t` viewed with `shape`, keeping its strides except stride 0 along `dim`.
Tensor pinned_along(const Tensor& t, int64_t dim, const Shape& shape) {
  Strides strides = t.strides();
  strides[dim] = 0;
  return core::as_strided(t, shape, strides, t.offset());
}

// out[p] = data[p + index[p] * step]; data is pinned along the indexed dim.
void gather_kernel(const Tensor& out, const Tensor& data, const Tensor& index, int64_t step) {
  visit_dtype(out.dtype(), "gather", [&]<class T>() {
    const int64_t step_bytes = step * static_cast<int64_t>(sizeof(T));
    cpu::for_each<3>({out, data, index}, [step_bytes](auto p, auto s, int64_t n) {
      for (int64_t i = 0; i < n; ++i) {
        int64_t k = *reinterpret_cast<const int64_t*>(p[2] + i * s[2]);
        *reinterpret_cast<T*>(p[0] + i * s[0]) =
            *reinterpret_cast<const T*>(p[1] + i * s[1] + k * step_bytes);
      }
    });
  });
}

// out[p + index[p] * step] += src[p]; out is pinned along the indexed dim.
void scatter_add_kernel(const Tensor& out, const Tensor& src, const Tensor& index, int64_t step) {
  visit_dtype(out.dtype(), "scatter_add", [&]<class T>() {
    const int64_t step_bytes = step * static_cast<int64_t>(sizeof(T));
    cpu::for_each<3>(
        {out, src, index},
        [step_bytes](auto p, auto s, int64_t n) {
          for (int64_t i = 0; i < n; ++i) {
            int64_t k = *reinterpret_cast<const int64_t*>(p[2] + i * s[2]);
            T* dst = reinterpret_cast<T*>(p[0] + i * s[0] + k * step_bytes);
            *dst = static_cast<T>(*dst + *reinterpret_cast<const T*>(p[1] + i * s[1]));
          }
        },
        std::numeric_limits<int64_t>::max());
  });
}

// A 1-d index spread over `shape`: it varies along `dim` only.
Tensor spread_index(const Tensor& index, int64_t dim, const Shape& shape) {
  Strides strides(shape.size(), 0);
  strides[dim] = index.stride(0);
  return core::as_strided(index, shape, strides, index.offset());
}

// Scatters along the last dim of contiguous tensors (max-pool's backward routes each plane's
// gradients this way): rows scatter into distinct output rows, so threads split the rows.
bool scatter_add_rows(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) {
  const int64_t last = out.dim() - 1;
  if (dim != last || !out.is_contiguous() || !index.is_contiguous() || !src.is_contiguous() ||
      src.shape() != index.shape() || index.numel() == 0)
    return false;
  for (int64_t d = 0; d < last; ++d)
    if (out.size(d) != index.size(d)) return false;
  const int64_t width = out.size(last), count = index.size(last);
  const int64_t rows = index.numel() / count;
  visit_dtype(out.dtype(), "scatter_add", [&]<class T>() {
    T* o = out.data<T>();
    const T* from = src.data<T>();
    const int64_t* at = index.data<int64_t>();
    cpu::parallel_for(rows, std::max<int64_t>(1, cpu::kGrain / count), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        T* dst = o + r * width;
        for (int64_t i = r * count; i < (r + 1) * count; ++i)
          dst[at[i]] = static_cast<T>(dst[at[i]] + from[i]);
      }
    });
  });
  return true;
}

}  // namespace

void CpuBackend::gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) {
  gather_kernel(out, pinned_along(x, dim, index.shape()), index, x.stride(dim));
}

void CpuBackend::scatter_add(const Tensor& out, int64_t dim, const Tensor& index,
                             const Tensor& src) {
  if (scatter_add_rows(out, dim, index, src)) return;
  Tensor src_view = core::as_strided(src, index.shape(), src.strides(), src.offset());
  scatter_add_kernel(pinned_along(out, dim, index.shape()), src_view, index, out.stride(dim));
}

void CpuBackend::index_select(const Tensor& x, int64_t dim, const Tensor& index,
                              const Tensor& out) {
  gather_kernel(out, pinned_along(x, dim, out.shape()), spread_index(index, dim, out.shape()),
                x.stride(dim));
}

void CpuBackend::index_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) {
  scatter_add_kernel(pinned_along(out, dim, src.shape()), src,
                     spread_index(index, dim, src.shape()), out.stride(dim));
}

}  // namespace nabla
