// The contract between the int8 GEMM drivers (int8_linear.cpp, int8_conv.cpp) and the kernels
// that run the products: the operand layouts, the fused output step, and one entry per kernel.
// Private to quant/.
#pragma once

#include <cstdint>
#include <vector>

namespace nabla::quant {
enum class Int8Kernel : uint8_t;  // int8_dispatch.h
}

namespace nabla::quant::kernels {

// Note [int8 layouts]
// Every kernel multiplies two operands stored as 32-bit "groups" along the depth k: a group holds
// four consecutive 8-bit values (Format::quads, byte j = depth 4g + j) or two consecutive values
// widened to int16 (Format::pairs, low half = depth 2g). One side is read as rows, a group at a
// time broadcast to every lane; the other as panels of kLanes lanes, each panel storing, for
// every group g, the kLanes lanes' groups side by side (panel[g * kLanes + lane]). Then one vector
// multiply-add of a broadcast row group and a panel row covers 4 (or 2) depths of 8 or 16 lanes:
//   quads: vpdpbusd (VNNI), or vpmaddubsw + vpmaddwd with ones (AVX2, 7-bit unsigned side only);
//   pairs: vpmaddwd (AVX2, exact for any 8-bit values).
// A linear layer reads its activations as rows (m) and its weights as panels (n), so that an
// output row's lanes are contiguous; a convolution the other way round, weights as rows (output
// channels) and im2col's pixels as panels, so that the lanes are contiguous pixels of an NCHW
// output plane. Depth past k is zero on the weight side, which makes the other side's padding
// irrelevant; lanes past the last are never stored.
//
// A panel is read in two halves of 8 lanes (32 bytes a group), each through its own base pointer,
// with group g at base + group_offset[g]. Packed panels have offsets 64 * g and halves 32 bytes
// apart; a convolution at stride 1 points the halves straight into its channel-blocked image
// instead, where 8 neighbouring pixels of one output row are 8 neighbouring groups at any kernel
// offset (Note [int8 convolution depth order] in int8_im2col.h), and needs no im2col copy.
constexpr int64_t kLanes = 16;
constexpr int64_t kHalfLanes = kLanes / 2;

enum class Format : uint8_t { quads, pairs };

inline int64_t depth_per_group(Format format) { return format == Format::quads ? 4 : 2; }
inline int64_t depth_groups(int64_t depth, Format format) {
  const int64_t per = depth_per_group(format);
  return (depth + per - 1) / per;
}
inline int64_t panel_count(int64_t lanes) { return (lanes + kLanes - 1) / kLanes; }

// What happens to the exact sum c = raw - correction[channel], in the tile's registers, before it
// is stored at out + r * ld + lane (in elements):
//   int32:   c;
//   uint8:   nearbyint(clamp(fma(float(c), multiplier, offset), lo, hi)) + zero_point, where
//            lo = qmin - zero_point and hi = qmax - zero_point: for integer bounds the same as
//            clamping after rounding (int8_requant.h), and the conversion stays in range;
//   float32: fma(float(c), multiplier, offset), and max(., 0) with relu.
// Every kernel evaluates this in this order, with the multiply-add fused explicitly
// (_mm256_fmadd_ps, std::fma): whether a * b + c becomes an FMA on an FMA CPU depends on the
// compiler and its mode (clang and GCC's gnu++ modes contract it, GCC's ISO modes do not), and a
// scalar kernel that rounds twice differs from the vector one in the last bit, which moves a value
// sitting at a rounding half. So all of them give the same bits (scalar_output in int8_epilogue.h
// is the reference) under any flags, and no file needs -ffp-contract=off.
struct Epilogue {
  enum class Kind : uint8_t { int32, uint8, float32 };
  Kind kind = Kind::int32;
  void* out = nullptr;
  int64_t ld = 0;
  // The channel of (r, lane) is r for a convolution, lane for a linear layer. Arrays indexed by
  // lane hold whole panels (a multiple of kLanes entries), so that vectors may read past the end.
  bool channels_on_rows = false;
  const int32_t* correction = nullptr;  // a_zero_point * sum_k W[channel][k]
  const float* multiplier = nullptr;
  const float* offset = nullptr;
  float lo = 0, hi = 0;
  int32_t zero_point = 0;
  bool relu = false;
};

struct Problem {
  int64_t rows = 0, lanes = 0, groups = 0;  // groups along the depth (Note [int8 layouts])
  const uint8_t* row_data = nullptr;        // row r at row_data + r * row_stride (bytes)
  int64_t row_stride = 0;
  // Lanes [8h, 8h + 8) of panel t, group g: 32 bytes at halves[2 * t + h] + group_offset[g], or
  // + 64 * g when group_offset is null (packed panels).
  const uint8_t* const* halves = nullptr;
  const int64_t* group_offset = nullptr;
  // Which side holds the uint8 activations (the other holds the int8 weights): the rows for a
  // linear layer, the panels for a convolution. Matters to the quads kernels only.
  bool rows_unsigned = true;
  Epilogue epilogue;
};

// Computes rows [row_begin, row_end) of panels [panel_begin, panel_end) on the calling thread.
using KernelFn = void (*)(const Problem&, int64_t row_begin, int64_t row_end, int64_t panel_begin,
                          int64_t panel_end);

void gemm_scalar(const Problem&, int64_t, int64_t, int64_t, int64_t);       // quads
void gemm_avx2_u7(const Problem&, int64_t, int64_t, int64_t, int64_t);      // quads
void gemm_avx2_exact(const Problem&, int64_t, int64_t, int64_t, int64_t);   // pairs
void gemm_avx_vnni(const Problem&, int64_t, int64_t, int64_t, int64_t);     // quads
void gemm_avx512_vnni(const Problem&, int64_t, int64_t, int64_t, int64_t);  // quads

// The halves of packed panels, `stride` bytes apart from `data` (Note [int8 layouts]).
std::vector<const uint8_t*> packed_halves(const uint8_t* data, int64_t stride, int64_t panels);

// A kernel's entry and the format its operands are packed in (defined in int8_dispatch.cpp).
KernelFn kernel_entry(Int8Kernel kernel);
Format kernel_format(Int8Kernel kernel);

}  // namespace nabla::quant::kernels
