// The sizes of one convolution, shared by the im2col kernels (conv.cpp) and the implicit-GEMM
// ones (conv_implicit.cpp). Private to core/cpu.
#pragma once

#include <cstdint>

#include "core/backend.h"
#include "core/creation.h"
#include "core/shape.h"

namespace nabla::cpu {

struct ConvGeometry {
  int64_t n, c, h, w, o, kh, kw, oh, ow, groups;
  const Conv2dParams& p;

  ConvGeometry(const Shape& input, const Shape& weight, const Shape& out, const Conv2dParams& p)
      : n(input[0]),
        c(input[1]),
        h(input[2]),
        w(input[3]),
        o(weight[0]),
        kh(weight[2]),
        kw(weight[3]),
        oh(out[2]),
        ow(out[3]),
        groups(p.groups),
        p(p) {}

  int64_t cg() const { return c / groups; }
  int64_t og() const { return o / groups; }
  int64_t col_rows() const { return cg() * kh * kw; }
  int64_t col_cols() const { return oh * ow; }
  bool is_pointwise() const {
    return kh == 1 && kw == 1 && p.stride[0] == 1 && p.stride[1] == 1 && p.padding[0] == 0 &&
           p.padding[1] == 0;
  }
  // Stride 1, no dilation, and an output plane the size of the input: "same" padding, which
  // makes each kernel offset's input a shifted copy of the plane.
  bool keeps_plane_size() const {
    return p.stride[0] == 1 && p.stride[1] == 1 && p.dilation[0] == 1 && p.dilation[1] == 1 &&
           oh == h && ow == w;
  }
  // im2col's scratch space (none for a pointwise convolution), from the caching allocator.
  Tensor column_buffer(DType dtype) const {
    return empty({is_pointwise() ? 0 : col_rows() * col_cols()}, {.dtype = dtype});
  }
};

}  // namespace nabla::cpu
