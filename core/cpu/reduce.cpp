// CPU reductions (sum, max, min), arg-reductions and softmax.
//
// Note [reduction paths]: when the reduced dims include x's innermost (smallest-stride) dim, each
// output element reduces a run of nearby memory: one thread per output, a vectorized inner loop.
// Otherwise the outputs themselves are contiguous in x (summing a batch of rows, say): the kernel
// combines whole slices of x into the output, vectorized along the kept dims.
#include <cmath>
#include <limits>
#include <numeric>
#include <type_traits>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/loops.h"
#include "core/cpu/nan.h"

namespace nabla {

namespace {

template <class A>
struct Combine {
  ReduceOp op;
  A identity() const {
    if (op == ReduceOp::sum) return A(0);
    if constexpr (std::is_floating_point_v<A>) {
      return op == ReduceOp::max ? -std::numeric_limits<A>::infinity()
                                 : std::numeric_limits<A>::infinity();
    } else {
      return op == ReduceOp::max ? std::numeric_limits<A>::lowest() : std::numeric_limits<A>::max();
    }
  }
  // NaN wins a max or min, like PyTorch.
  A operator()(A acc, A v) const {
    if (op == ReduceOp::sum) return static_cast<A>(acc + v);
    if (op == ReduceOp::max) return (v > acc || cpu::is_nan(v)) ? v : acc;
    return (v < acc || cpu::is_nan(v)) ? v : acc;
  }
};

// Reduces n elements `stride` bytes apart; contiguous sums keep 16 partial sums, which the
// compiler maps onto vector lanes and which also bound the rounding error's growth.
template <class T, class A>
A reduce_run(const char* p, int64_t stride, int64_t n, A acc, Combine<A> c) {
  if (c.op == ReduceOp::sum && stride == sizeof(T)) {
    const T* x = reinterpret_cast<const T*>(p);
    A lanes[16] = {};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
      for (int j = 0; j < 16; ++j) lanes[j] += static_cast<A>(x[i + j]);
    for (; i < n; ++i) acc += static_cast<A>(x[i]);
    for (int j = 0; j < 16; ++j) acc += lanes[j];
    return acc;
  }
  for (int64_t i = 0; i < n; ++i) acc = c(acc, static_cast<A>(*reinterpret_cast<const T*>(p + i * stride)));
  return acc;
}

template <class T, class A>
void reduce_kernel(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims,
                   const Tensor& out) {
  Combine<A> combine{op};
  std::vector<bool> reduced(x.dim(), false);
  for (int64_t d : dims) reduced[d] = true;
  Shape kept_shape, red_shape;
  Strides kept_strides, red_strides;
  int64_t innermost = -1;
  for (int64_t d = 0; d < x.dim(); ++d) {
    (reduced[d] ? red_shape : kept_shape).push_back(x.size(d));
    (reduced[d] ? red_strides : kept_strides).push_back(x.stride(d));
    if (x.size(d) > 1 && (innermost < 0 || std::abs(x.stride(d)) < std::abs(x.stride(innermost))))
      innermost = d;
  }
  A* o = out.data<A>();
  const int64_t n_out = out.numel();
  char* base = static_cast<char*>(x.raw_data());
  const bool slices_path = innermost >= 0 && !reduced[innermost] && n_out >= 256;

  if (!slices_path) {  // one output at a time; see Note [reduction paths]
    cpu::StridedLoop<1> run(red_shape, {base}, {red_strides}, {sizeof(T)});
    cpu::StridedLoop<1> outer(kept_shape, {base}, {kept_strides}, {sizeof(T)});
    int64_t n_red = numel(red_shape);
    cpu::parallel_for(n_out, std::max<int64_t>(1, cpu::kGrain / std::max<int64_t>(n_red, 1)),
                      [&](int64_t begin, int64_t end) {
                        int64_t i = begin;
                        auto per_output = [&](auto p, auto s, int64_t n) {
                          for (int64_t j = 0; j < n; ++j, ++i) {
                            A acc = combine.identity();
                            auto body = [&](auto q, auto st, int64_t m) {
                              acc = reduce_run<T, A>(q[0], st[0], m, acc, combine);
                            };
                            run.walk({p[0] + j * s[0]}, 0, n_red, body);
                            o[i] = acc;
                          }
                        };
                        outer.walk(outer.base, begin, end, per_output);
                      });
    return;
  }
  // Slices path: out (kept dims) combined with each slice x[r] over the reduced index r.
  std::fill(o, o + n_out, combine.identity());
  cpu::StridedLoop<1> slices(red_shape, {base}, {red_strides}, {sizeof(T)});
  Strides out_strides = contiguous_strides(kept_shape);
  cpu::StridedLoop<2> row(kept_shape, {reinterpret_cast<char*>(o), base},
                          {out_strides, kept_strides}, {sizeof(A), sizeof(T)});
  auto each_slice = [&](auto q, auto s, int64_t m) {
    for (int64_t j = 0; j < m; ++j) {
      std::array<char*, 2> origin{reinterpret_cast<char*>(o), q[0] + j * s[0]};
      cpu::parallel_for(row.numel, cpu::kGrain, [&](int64_t begin, int64_t end) {
        auto body = [&](auto p, auto st, int64_t n) {
          for (int64_t k = 0; k < n; ++k) {
            A* dst = reinterpret_cast<A*>(p[0] + k * st[0]);
            *dst = combine(*dst, static_cast<A>(*reinterpret_cast<const T*>(p[1] + k * st[1])));
          }
        };
        row.walk(origin, begin, end, body);
      });
    }
  };
  slices.walk(slices.base, 0, slices.numel, each_slice);
}

}  // namespace

void CpuBackend::reduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims,
                        const Tensor& out) {
  visit_dtype(x.dtype(), "reduce", [&]<class T>() {
    if (out.dtype() == kInt64 && !std::is_same_v<T, int64_t>) {
      reduce_kernel<T, int64_t>(op, x, dims, out);  // integral sums widen, like PyTorch
    } else {
      reduce_kernel<T, T>(op, x, dims, out);
    }
  });
}

void CpuBackend::arg_reduce(ArgReduceOp op, const Tensor& x, int64_t dim, const Tensor& out) {
  visit_dtype(x.dtype(), "arg_reduce", [&]<class T>() {
    Shape outer_shape = x.shape();
    outer_shape[dim] = 1;
    const int64_t n = x.size(dim), step = x.stride(dim);
    const bool want_max = op == ArgReduceOp::argmax;
    int64_t* o = out.data<int64_t>();
    cpu::StridedLoop<1> outer(outer_shape, {static_cast<char*>(x.raw_data())}, {x.strides()},
                              {sizeof(T)});
    cpu::parallel_for(out.numel(), std::max<int64_t>(1, cpu::kGrain / std::max<int64_t>(n, 1)),
                      [&](int64_t begin, int64_t end) {
                        int64_t i = begin;
                        auto body = [&](auto p, auto s, int64_t m) {
                          for (int64_t j = 0; j < m; ++j, ++i) {
                            const T* row = reinterpret_cast<const T*>(p[0] + j * s[0]);
                            int64_t best = 0;
                            for (int64_t k = 1; k < n; ++k) {
                              T v = row[k * step], b = row[best * step];
                              if (cpu::is_nan(b)) break;  // NaN is the extreme value, like PyTorch
                              if ((want_max ? v > b : v < b) || cpu::is_nan(v)) best = k;
                            }
                            o[i] = best;
                          }
                        };
                        outer.walk(outer.base, begin, end, body);
                      });
  });
}

void CpuBackend::softmax(const Tensor& x, int64_t dim, bool log, const Tensor& out) {
  NABLA_ASSERT(x.is_contiguous() && out.is_contiguous());
  visit_dtype<DTypeSet::floating>(x.dtype(), "softmax", [&]<class T>() {
    const int64_t d = x.size(dim);
    int64_t inner = 1;
    for (int64_t k = dim + 1; k < x.dim(); ++k) inner *= x.size(k);
    const int64_t outer = d == 0 ? 0 : x.numel() / (d * inner);
    const T* in = x.data<T>();
    T* o = out.data<T>();
    // One (outer, inner) row at a time: x[o, :, i] with stride `inner`.
    cpu::parallel_for(outer * inner, std::max<int64_t>(1, 4096 / std::max<int64_t>(d, 1)),
                      [&](int64_t begin, int64_t end) {
                        for (int64_t r = begin; r < end; ++r) {
                          const T* row = in + (r / inner) * d * inner + r % inner;
                          T* dst = o + (row - in);
                          T m = -std::numeric_limits<T>::infinity();
                          for (int64_t k = 0; k < d; ++k) m = std::max(m, row[k * inner]);
                          T sum = 0;
                          for (int64_t k = 0; k < d; ++k) sum += std::exp(row[k * inner] - m);
                          if (log) {
                            T shift = m + std::log(sum);
                            for (int64_t k = 0; k < d; ++k) dst[k * inner] = row[k * inner] - shift;
                          } else {
                            T inv = T(1) / sum;
                            for (int64_t k = 0; k < d; ++k)
                              dst[k * inner] = std::exp(row[k * inner] - m) * inv;
                          }
                        }
                      });
  });
}

}  // namespace nabla
