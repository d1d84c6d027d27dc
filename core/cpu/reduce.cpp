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
#include "core/creation.h"

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
  for (int64_t i = 0; i < n; ++i)
    acc = c(acc, static_cast<A>(*reinterpret_cast<const T*>(p + i * stride)));
  return acc;
}

// float sums accumulate in double: a float running sum over millions of elements drifts by
// percent; the extra precision costs nothing here, where memory bandwidth is the limit.
template <class A>
using Accumulator = std::conditional_t<std::is_same_v<A, float>, double, A>;

template <class T, class A>
void reduce_kernel(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims,
                   const Tensor& out) {
  using Acc = Accumulator<A>;
  Combine<Acc> combine{op};
  std::vector<bool> reduced(x.dim(), false);
  for (int64_t d : dims) reduced[d] = true;
  Shape kept_shape, red_shape;
  Strides kept_strides, red_strides;
  int64_t innermost = -1;
  for (int64_t d = 0; d < x.dim(); ++d) {
    (reduced[d] ? red_shape : kept_shape).push_back(x.size(d));
    (reduced[d] ? red_strides : kept_strides).push_back(x.stride(d));
    if (x.size(d) > 1 && (innermost < 0 || x.stride(d) < x.stride(innermost))) innermost = d;
  }
  A* o = out.data<A>();
  const int64_t n_out = out.numel(), n_red = numel(red_shape);
  const int64_t grain = std::max<int64_t>(1, cpu::kGrain / std::max<int64_t>(n_red, 1));
  char* base = static_cast<char*>(x.raw_data());
  cpu::StridedLoop<1> slices(red_shape, {base}, {red_strides}, {sizeof(T)});

  if (innermost < 0 || reduced[innermost] || n_out < 256) {  // see Note [reduction paths]
    cpu::StridedLoop<1> outputs(kept_shape, {base}, {kept_strides}, {sizeof(T)});
    cpu::parallel_for(n_out, grain, [&](int64_t begin, int64_t end) {
      int64_t i = begin;
      auto per_output = [&](auto p, auto s, int64_t n) {
        for (int64_t j = 0; j < n; ++j, ++i) {
          Acc acc = combine.identity();
          auto run = [&](auto q, auto st, int64_t m) {
            acc = reduce_run<T, Acc>(q[0], st[0], m, acc, combine);
          };
          slices.walk({p[0] + j * s[0]}, 0, n_red, run);
          o[i] = static_cast<A>(acc);
        }
      };
      outputs.walk(outputs.base, begin, end, per_output);
    });
    return;
  }
  // Each thread owns a range of outputs and combines every slice x[r] into it, a block of
  // outputs at a time so the block stays in cache across slices.
  constexpr int64_t kBlock = 2048;
  Tensor acc_buffer = empty({n_out}, {.dtype = dtype_of<Acc>()});
  Acc* acc = acc_buffer.data<Acc>();
  std::fill(acc, acc + n_out, combine.identity());
  char* acc_base = reinterpret_cast<char*>(acc);
  cpu::StridedLoop<2> rows(kept_shape, {acc_base, base},
                           {contiguous_strides(kept_shape), kept_strides},
                           {sizeof(Acc), sizeof(T)});
  auto combine_run = [&](auto p, auto st, int64_t n) {
    Acc* dst = reinterpret_cast<Acc*>(p[0]);
    if (st[1] == sizeof(T)) {
      const T* src = reinterpret_cast<const T*>(p[1]);
      for (int64_t k = 0; k < n; ++k) dst[k] = combine(dst[k], static_cast<Acc>(src[k]));
      return;
    }
    for (int64_t k = 0; k < n; ++k)
      dst[k] = combine(dst[k], static_cast<Acc>(*reinterpret_cast<const T*>(p[1] + k * st[1])));
  };
  cpu::parallel_for(n_out, grain, [&](int64_t begin, int64_t end) {
    for (int64_t block = begin; block < end; block += kBlock) {
      const int64_t block_end = std::min(end, block + kBlock);
      auto each_slice = [&](auto q, auto s, int64_t m) {
        for (int64_t j = 0; j < m; ++j)
          rows.walk({acc_base, q[0] + j * s[0]}, block, block_end, combine_run);
      };
      slices.walk(slices.base, 0, n_red, each_slice);
    }
  });
  for (int64_t i = 0; i < n_out; ++i) o[i] = static_cast<A>(acc[i]);
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
