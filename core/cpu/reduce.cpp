// CPU reductions (sum, max, min) and arg-reductions.
//
// Note [reduction paths]: x's dims split into kept dims (one per output element) and reduced
// dims. When x's innermost (smallest-stride) dim is reduced, each output reduces runs of nearby
// memory: threads split the outputs, or, when there are fewer outputs than threads (a full sum),
// the reduced range of each output, with per-thread partial results. Otherwise the outputs are
// contiguous in x (summing a batch of rows, say): slices of x are combined into the outputs
// elementwise, vectorized along the kept dims, with threads splitting the outputs when there are
// many and the slices (into per-thread partial outputs) when there are few.
#include <limits>
#include <memory>
#include <type_traits>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/loops.h"
#include "core/cpu/nan.h"

namespace nabla {

namespace {

// The ops as types, so that every inner loop is compiled without a branch on the op.
struct SumOp {
  template <class A>
  static A identity() {
    return A(0);
  }
  template <class A>
  static A apply(A acc, A v) {
    return static_cast<A>(acc + v);
  }
};

// NaN wins a max or a min, like PyTorch.
struct MaxOp {
  template <class A>
  static A identity() {
    if constexpr (std::is_floating_point_v<A>) return -std::numeric_limits<A>::infinity();
    return std::numeric_limits<A>::lowest();
  }
  template <class A>
  static A apply(A acc, A v) {
    return (v > acc || cpu::is_nan(v)) ? v : acc;
  }
};

struct MinOp {
  template <class A>
  static A identity() {
    if constexpr (std::is_floating_point_v<A>) return std::numeric_limits<A>::infinity();
    return std::numeric_limits<A>::max();
  }
  template <class A>
  static A apply(A acc, A v) {
    return (v < acc || cpu::is_nan(v)) ? v : acc;
  }
};

// float sums accumulate in double: a float running sum over millions of elements drifts by
// percent, and the extra precision costs nothing where memory bandwidth is the limit.
template <class A>
using Accumulator = std::conditional_t<std::is_same_v<A, float>, double, A>;

// Folds n elements `stride` bytes apart into acc. A contiguous run keeps 16 partial results,
// which the compiler maps onto vector lanes.
template <class Op, class T, class Acc>
Acc reduce_run(const char* p, int64_t stride, int64_t n, Acc acc) {
  if (stride != sizeof(T)) {
    for (int64_t i = 0; i < n; ++i)
      acc = Op::apply(acc, static_cast<Acc>(*reinterpret_cast<const T*>(p + i * stride)));
    return acc;
  }
  const T* x = reinterpret_cast<const T*>(p);
  Acc lanes[16];
  for (Acc& lane : lanes) lane = Op::template identity<Acc>();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j) lanes[j] = Op::apply(lanes[j], static_cast<Acc>(x[i + j]));
  for (; i < n; ++i) acc = Op::apply(acc, static_cast<Acc>(x[i]));
  for (Acc lane : lanes) acc = Op::apply(acc, lane);
  return acc;
}

// dst[k] = op(dst[k], src[k]) over a run: one slice of x combined into the outputs.
template <class Op, class T, class Acc>
void combine_run(char* dst_p, const char* src_p, int64_t dst_stride, int64_t src_stride,
                 int64_t n) {
  Acc* dst = reinterpret_cast<Acc*>(dst_p);
  if (dst_stride == sizeof(Acc) && src_stride == sizeof(T)) {
    const T* src = reinterpret_cast<const T*>(src_p);
    for (int64_t k = 0; k < n; ++k) dst[k] = Op::apply(dst[k], static_cast<Acc>(src[k]));
    return;
  }
  for (int64_t k = 0; k < n; ++k)
    *reinterpret_cast<Acc*>(dst_p + k * dst_stride) =
        Op::apply(*reinterpret_cast<Acc*>(dst_p + k * dst_stride),
                  static_cast<Acc>(*reinterpret_cast<const T*>(src_p + k * src_stride)));
}

template <class Op, class T, class A>
void reduce_kernel(const Tensor& x, const std::vector<int64_t>& dims, const Tensor& out) {
  using Acc = Accumulator<A>;
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
  const int64_t threads = omp_get_max_threads();
  char* base = static_cast<char*>(x.raw_data());
  cpu::StridedLoop<1> slices(red_shape, {base}, {red_strides}, {sizeof(T)});
  cpu::StridedLoop<1> outputs(kept_shape, {base}, {kept_strides}, {sizeof(T)});
  // Accumulators, and per-thread partial results combined at the end (Note [reduction paths]).
  auto accumulators = [](int64_t count) {
    auto buffer = std::make_unique<Acc[]>(count);
    std::fill(buffer.get(), buffer.get() + count, Op::template identity<Acc>());
    return buffer;
  };

  if (innermost < 0 || reduced[innermost]) {
    auto fold = [](Acc& acc) {
      return
          [&acc](auto q, auto st, int64_t m) { acc = reduce_run<Op, T, Acc>(q[0], st[0], m, acc); };
    };
    if (n_out >= threads) {
      const int64_t grain = std::max<int64_t>(1, cpu::kGrain / std::max<int64_t>(n_red, 1));
      cpu::parallel_for(n_out, grain, [&](int64_t begin, int64_t end) {
        int64_t i = begin;
        auto per_output = [&](auto p, auto s, int64_t n) {
          for (int64_t j = 0; j < n; ++j, ++i) {
            Acc acc = Op::template identity<Acc>();
            auto run = fold(acc);
            slices.walk({p[0] + j * s[0]}, 0, n_red, run);
            o[i] = static_cast<A>(acc);
          }
        };
        outputs.walk(outputs.base, begin, end, per_output);
      });
      return;
    }
    auto partial = accumulators(threads);
    int64_t i = 0;
    auto per_output = [&](auto p, auto, int64_t) {
      cpu::parallel_for(n_red, cpu::kGrain, [&](int64_t begin, int64_t end) {
        Acc& acc = partial[omp_get_thread_num()];
        auto run = fold(acc);
        slices.walk({p[0]}, begin, end, run);
      });
      Acc total = Op::template identity<Acc>();
      for (int64_t t = 0; t < threads; ++t) {
        total = Op::apply(total, partial[t]);
        partial[t] = Op::template identity<Acc>();
      }
      o[i++] = static_cast<A>(total);
    };
    for (int64_t k = 0; k < n_out; ++k) outputs.walk(outputs.base, k, k + 1, per_output);
    return;
  }

  // The slices path: outputs advance with x's innermost dim.
  const Strides out_strides = contiguous_strides(kept_shape);
  auto combine_into = [&](Acc* acc, int64_t out_begin, int64_t out_end, int64_t red_begin,
                          int64_t red_end) {
    char* acc_base = reinterpret_cast<char*>(acc);
    cpu::StridedLoop<2> rows(kept_shape, {acc_base, base}, {out_strides, kept_strides},
                             {sizeof(Acc), sizeof(T)});
    auto body = [](auto p, auto st, int64_t n) {
      combine_run<Op, T, Acc>(p[0], p[1], st[0], st[1], n);
    };
    auto each_slice = [&](auto q, auto s, int64_t m) {
      for (int64_t j = 0; j < m; ++j)
        rows.walk({acc_base, q[0] + j * s[0]}, out_begin, out_end, body);
    };
    slices.walk(slices.base, red_begin, red_end, each_slice);
  };
  // Outputs per pass over the slices: their accumulators (16 KiB of doubles) and the slice
  // pieces streaming past share L1.
  constexpr int64_t kBlock = 2048;
  if (n_red < 8 * threads || n_out > (int64_t{1} << 20)) {
    auto acc = accumulators(n_out);  // threads own disjoint outputs
    const int64_t grain = std::max<int64_t>(kBlock, cpu::kGrain / std::max<int64_t>(n_red, 1));
    cpu::parallel_for(n_out, grain, [&](int64_t begin, int64_t end) {
      for (int64_t block = begin; block < end; block += kBlock)
        combine_into(acc.get(), block, std::min(end, block + kBlock), 0, n_red);
    });
    for (int64_t k = 0; k < n_out; ++k) o[k] = static_cast<A>(acc[k]);
    return;
  }
  auto acc = accumulators(threads * n_out);
  cpu::parallel_for(n_red, std::max<int64_t>(1, cpu::kGrain / n_out),
                    [&](int64_t begin, int64_t end) {
                      Acc* mine = acc.get() + omp_get_thread_num() * n_out;
                      for (int64_t block = 0; block < n_out; block += kBlock)
                        combine_into(mine, block, std::min(n_out, block + kBlock), begin, end);
                    });
  for (int64_t k = 0; k < n_out; ++k) {
    Acc total = acc[k];
    for (int64_t t = 1; t < threads; ++t) total = Op::apply(total, acc[t * n_out + k]);
    o[k] = static_cast<A>(total);
  }
}

template <class T, class A>
void reduce_dispatch(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims,
                     const Tensor& out) {
  switch (op) {
    case ReduceOp::sum:
      return reduce_kernel<SumOp, T, A>(x, dims, out);
    case ReduceOp::max:
      return reduce_kernel<MaxOp, T, A>(x, dims, out);
    case ReduceOp::min:
      return reduce_kernel<MinOp, T, A>(x, dims, out);
  }
}

}  // namespace

void CpuBackend::reduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims,
                        const Tensor& out) {
  visit_dtype(x.dtype(), "reduce", [&]<class T>() {
    if (out.dtype() == kInt64 && !std::is_same_v<T, int64_t>) {
      reduce_dispatch<T, int64_t>(op, x, dims, out);  // integral sums widen, like PyTorch
    } else {
      reduce_dispatch<T, T>(op, x, dims, out);
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

}  // namespace nabla
