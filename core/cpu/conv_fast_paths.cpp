#include "core/cpu/conv_fast_paths.h"

#include <omp.h>

#include "core/cpu/conv_implicit.h"
#include "core/cpu/conv_strided.h"
#include "core/cpu/conv_winograd.h"
#include "core/cpu/loops.h"

namespace nabla::cpu {

// Both kinds run whole images per thread (they apply only with an image per thread), each with
// single-threaded GEMMs.
bool fast_conv2d(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                 float* y) {
  if (winograd_applies(g, kFloat32)) {
    Tensor u = empty({16 * winograd_weight_stride(g.o, g.c)});
    winograd_transform_weights(w, g.o, g.c, u.data<float>());
    parallel_for(g.n, 1, [&](int64_t begin, int64_t end) {
      winograd_conv2d(g, x, g.c, u.data<float>(), g.o, bias, y, begin, end);
    });
    return true;
  }
  if (implicit_conv_applies(g, kFloat32)) {
    parallel_for(
        g.n, 1, [&](int64_t begin, int64_t end) { implicit_conv2d(g, x, w, bias, y, begin, end); });
    return true;
  }
  if (strided_conv_applies(g, kFloat32)) {
    parallel_for(g.n, 1,
                 [&](int64_t begin, int64_t end) { strided_conv2d(g, x, w, bias, y, begin, end); });
    return true;
  }
  return false;
}

bool fast_conv2d_backward_data(const ConvGeometry& g, const float* gy, const float* w, float* gx) {
  if (strided_conv_applies(g, kFloat32)) {
    parallel_for(g.n, 1, [&](int64_t begin, int64_t end) {
      strided_conv2d_backward_data(g, gy, w, gx, begin, end);
    });
    return true;
  }
  const bool winograd = winograd_applies(g, kFloat32);
  if (!winograd && !implicit_conv_applies(g, kFloat32)) return false;
  Tensor flipped = empty({g.o * g.cg() * g.kh * g.kw});
  flip_for_backward_data(g, w, flipped.data<float>());
  if (winograd) {
    Tensor u = empty({16 * winograd_weight_stride(g.c, g.o)});
    winograd_transform_weights(flipped.data<float>(), g.c, g.o, u.data<float>());
    parallel_for(g.n, 1, [&](int64_t begin, int64_t end) {
      winograd_conv2d(g, gy, g.o, u.data<float>(), g.c, nullptr, gx, begin, end);
    });
    return true;
  }
  parallel_for(g.n, 1, [&](int64_t begin, int64_t end) {
    implicit_conv2d_backward_data(g, gy, flipped.data<float>(), gx, begin, end);
  });
  return true;
}

bool fast_conv2d_backward_weight(const ConvGeometry& g, const float* x, const float* gy,
                                 float* slots, int64_t slot_size, bool transposed) {
  const bool winograd = winograd_applies(g, kFloat32), strided = strided_conv_applies(g, kFloat32);
  if (!winograd && !strided && !implicit_conv_applies(g, kFloat32)) return false;
  parallel_for(g.n, 1, [&](int64_t begin, int64_t end) {
    float* slot = slots + omp_get_thread_num() * slot_size;
    if (winograd) {
      winograd_conv2d_backward_weight(g, x, gy, slot, transposed, begin, end);
    } else if (strided) {
      strided_conv2d_backward_weight(g, x, gy, slot, transposed, begin, end);
    } else {
      implicit_conv2d_backward_weight(g, x, gy, slot, transposed, begin, end);
    }
  });
  return true;
}

}  // namespace nabla::cpu
