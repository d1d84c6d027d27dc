// The CPU's loop machinery: walking several same-shaped strided tensors together in row-major
// order, split across OpenMP threads. Kernels supply only the innermost loop.
#pragma once

#include <omp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace nabla::cpu {

// Below this many elements a loop runs on one thread: waking the pool costs more than it saves.
inline constexpr int64_t kGrain = 32768;

// Runs fn(begin, end) over [0, n) split into at most one contiguous chunk per thread.
template <class Fn>
void parallel_for(int64_t n, int64_t grain, Fn&& fn) {
  int64_t max_threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  int64_t threads = std::min(max_threads, n / std::max<int64_t>(grain, 1));
  if (threads <= 1) {
    if (n > 0) fn(int64_t{0}, n);
    return;
  }
#pragma omp parallel num_threads(static_cast <int>(threads))
  {
    int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    int64_t begin = n * t / nt, end = n * (t + 1) / nt;
    if (begin < end) fn(begin, end);
  }
}

// N operands of one shape, with size-1 dims dropped and dims that are contiguous in every operand
// merged, so a contiguous tensor becomes a single run. Strides are in bytes.
template <size_t N>
struct StridedLoop {
  std::vector<int64_t> sizes;  // innermost last
  std::array<std::vector<int64_t>, N> strides;
  std::array<char*, N> base;
  int64_t numel = 1;

  StridedLoop(const Shape& shape, const std::array<char*, N>& base_ptrs,
              const std::array<Strides, N>& element_strides, const std::array<size_t, N>& sizes_of)
      : base(base_ptrs) {
    for (size_t d = 0; d < shape.size(); ++d) {
      numel *= shape[d];
      if (shape[d] == 1) continue;
      int64_t last = static_cast<int64_t>(sizes.size()) - 1;
      bool merge = last >= 0;
      for (size_t k = 0; k < N && merge; ++k)
        merge = strides[k][last] ==
                element_strides[k][d] * static_cast<int64_t>(sizes_of[k]) * shape[d];
      if (merge) {
        sizes[last] *= shape[d];
        for (size_t k = 0; k < N; ++k)
          strides[k][last] = element_strides[k][d] * static_cast<int64_t>(sizes_of[k]);
        continue;
      }
      sizes.push_back(shape[d]);
      for (size_t k = 0; k < N; ++k)
        strides[k].push_back(element_strides[k][d] * static_cast<int64_t>(sizes_of[k]));
    }
  }

  // Calls body(ptrs, inner_strides, n) for each run along the innermost dim inside the
  // row-major element range [begin, end), with `base` replaced by `origin`.
  template <class Body>
  void walk(const std::array<char*, N>& origin, int64_t begin, int64_t end, Body& body) const {
    if (begin >= end) return;  // also keeps an empty dim out of the index arithmetic below
    int64_t ndim = static_cast<int64_t>(sizes.size());
    if (ndim == 0) {
      body(origin, std::array<int64_t, N>{}, int64_t{1});
      return;
    }
    // Kernels call walk once per output row, so the index lives on the stack for usual ranks.
    int64_t idx_inline[16];
    std::vector<int64_t> idx_heap(ndim > 16 ? ndim : 0);
    int64_t* idx = ndim > 16 ? idx_heap.data() : idx_inline;
    std::array<char*, N> ptr = origin;
    for (int64_t d = ndim - 1, rem = begin; d >= 0; --d) {
      idx[d] = rem % sizes[d];
      rem /= sizes[d];
      for (size_t k = 0; k < N; ++k) ptr[k] += idx[d] * strides[k][d];
    }
    std::array<int64_t, N> inner_stride;
    for (size_t k = 0; k < N; ++k) inner_stride[k] = strides[k][ndim - 1];
    const int64_t inner = sizes[ndim - 1];
    for (int64_t pos = begin; pos < end;) {
      int64_t n = std::min(inner - idx[ndim - 1], end - pos);
      body(ptr, inner_stride, n);
      pos += n;
      idx[ndim - 1] += n;
      for (size_t k = 0; k < N; ++k) ptr[k] += n * inner_stride[k];
      for (int64_t d = ndim - 1; d > 0 && idx[d] == sizes[d]; --d) {
        idx[d] = 0;
        ++idx[d - 1];
        for (size_t k = 0; k < N; ++k) ptr[k] += strides[k][d - 1] - sizes[d] * strides[k][d];
      }
    }
  }
};

// Walks tensors of one shape together (the first is usually the output), in parallel chunks.
template <size_t N, class Body>
void for_each(const std::array<Tensor, N>& tensors, Body body, int64_t grain = kGrain) {
  std::array<char*, N> base;
  std::array<Strides, N> strides;
  std::array<size_t, N> sizes_of;
  for (size_t k = 0; k < N; ++k) {
    base[k] = static_cast<char*>(tensors[k].raw_data());
    strides[k] = tensors[k].strides();
    sizes_of[k] = itemsize(tensors[k].dtype());
  }
  StridedLoop<N> loop(tensors[0].shape(), base, strides, sizes_of);
  parallel_for(loop.numel, grain,
               [&](int64_t begin, int64_t end) { loop.walk(loop.base, begin, end, body); });
}

}  // namespace nabla::cpu
