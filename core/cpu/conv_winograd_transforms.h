// The per-tile transforms of Winograd's F(2x2, 3x3) (Note [Winograd] in conv_winograd.cpp), for
// AVX-512 (16 tiles of a tile row per vector, in conv_winograd.cpp) and AVX2 (8 tiles, in
// conv_winograd_avx2.cpp). Private to core/cpu/conv_winograd*.cpp.
#pragma once

#include <algorithm>
#include <cstdint>

namespace nabla::cpu::winograd {

constexpr int64_t kTransformSize = 16;  // the 4x4 positions xi
constexpr int64_t kTargetTiles = 128;   // tiles per product: enough columns for the GEMM

// A plane cut into 2x2 output tiles (the last row and column may stick out of an odd plane).
struct Tiling {
  int64_t h, w, th, tw;
  Tiling(int64_t h, int64_t w) : h(h), w(w), th((h + 1) / 2), tw((w + 1) / 2) {}
  int64_t tiles() const { return th * tw; }
  // The plane with one zero row and column around it, and up to the tiles' extent.
  int64_t padded_rows() const { return 2 * th + 2; }
  int64_t padded_cols() const { return 2 * tw + 2; }
  // Images per product: kTargetTiles tiles, or at least one image.
  int64_t images_per_product(int64_t images) const {
    return std::clamp<int64_t>(kTargetTiles / tiles(), 1, std::max<int64_t>(images, 1));
  }
};

// One instruction set's transforms.
//   input: v[xi * xi_stride + tile] = (B^T d B)[xi] for every tile of one [h, w] plane. `padded`
//     holds t's padded plane with its border zero: only the interior is written, so the caller
//     zeroes it once for all the planes it transforms.
//   output: plane = A^T m A + bias for every tile, m[xi * xi_stride + tile]; drops what sticks out.
//   grad_output: p[xi * xi_stride + tile] = (A dy A^T)[xi] for every 2x2 tile dy of one [h, w]
//     gradient plane.
struct Transforms {
  void (*input)(const float* plane, const Tiling& t, float* padded, float* v, int64_t xi_stride);
  void (*output)(const float* m, int64_t xi_stride, const Tiling& t, float bias, float* plane);
  void (*grad_output)(const float* plane, const Tiling& t, float* p, int64_t xi_stride);
};

// Call only where the CPU has AVX2 and FMA (isa.h).
extern const Transforms kAvx2Transforms;

}  // namespace nabla::cpu::winograd
