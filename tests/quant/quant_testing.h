// Small builders the quant tests share: tensors from literals, per-tensor qparams and random
// images.
#pragma once

#include <cstdint>
#include <vector>

#include "core/creation.h"
#include "core/generator.h"
#include "core/ops.h"
#include "quant/qscheme.h"

namespace nabla::quant_testing {

inline Tensor f32(const std::vector<float>& v, const Shape& shape = {}) {
  return from_vector<float>(v, shape);
}

inline Tensor f64(const std::vector<double>& v, const Shape& shape = {}) {
  return from_vector<double>(v, shape);
}

// Per-tensor qparams of one scale and zero point.
inline quant::QParams params(float scale, int64_t zero_point, quant::QScheme scheme) {
  return {
      .scale = f32({scale}), .zero_point = from_vector<int64_t>({zero_point}), .scheme = scheme};
}

// Uniform noise in [-1, 1] of `shape`, drawn after manual_seed(seed): for tests about a
// converted model's structure and edges rather than its accuracy.
inline Tensor uniform_images(const Shape& shape, uint64_t seed) {
  manual_seed(seed);
  return core::binary(BinaryOp::sub, core::binary(BinaryOp::mul, rand(shape), 2.0), 1.0);
}

}  // namespace nabla::quant_testing
