// im2col into the int8 kernels' panels through a channel-blocked, padded copy of the image
// (Note [int8 convolution depth order] in int8_im2col.h).
#include "quant/kernels/int8_im2col.h"

#include <algorithm>
#include <cstring>
#include <vector>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace nabla::quant::kernels {

namespace {

// The group of `per` values (channels past c read `fill`): bytes as the kernels read them, int16
// little-endian for pairs.
inline uint32_t make_group(const uint8_t* const* ch, int64_t per, int64_t at, uint8_t fill,
                           int64_t valid) {
  uint32_t g = 0;
  for (int64_t j = 0; j < per; ++j) {
    const uint32_t v = j < valid ? ch[j][at] : fill;
    g |= per == 4 ? v << (8 * j) : v << (16 * j);
  }
  return g;
}

inline uint32_t fill_group(uint8_t v, Format format) {
  return format == Format::quads ? 0x01010101u * v : 0x00010001u * v;
}

// Columns [0, n) of a block's image row with all `per` channels present, into dst (4 bytes per
// column), 16 columns at a time by unpacking bytes (SSE2, which every x86-64 CPU has); returns
// the columns done, which the caller finishes one by one.
inline int64_t interleave_row(const uint8_t* const* ch, int64_t per, int64_t n, uint8_t* dst) {
  int64_t col = 0;
#ifdef __SSE2__
  const __m128i zero = _mm_setzero_si128();
  auto load = [&](int64_t j) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(ch[j] + col));
  };
  auto store = [&](int64_t q, __m128i v) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 4 * col + 16 * q), v);
  };
  for (; col + 16 <= n; col += 16) {
    // quads: bytes a b c d per column; pairs: a 0 b 0 (int16 little-endian).
    const __m128i a = load(0), b = load(1);
    const __m128i c = per == 4 ? load(2) : zero, d = per == 4 ? load(3) : zero;
    const __m128i ab_lo = per == 4 ? _mm_unpacklo_epi8(a, b) : _mm_unpacklo_epi8(a, zero);
    const __m128i ab_hi = per == 4 ? _mm_unpackhi_epi8(a, b) : _mm_unpackhi_epi8(a, zero);
    const __m128i cd_lo = per == 4 ? _mm_unpacklo_epi8(c, d) : _mm_unpacklo_epi8(b, zero);
    const __m128i cd_hi = per == 4 ? _mm_unpackhi_epi8(c, d) : _mm_unpackhi_epi8(b, zero);
    store(0, _mm_unpacklo_epi16(ab_lo, cd_lo));
    store(1, _mm_unpackhi_epi16(ab_lo, cd_lo));
    store(2, _mm_unpacklo_epi16(ab_hi, cd_hi));
    store(3, _mm_unpackhi_epi16(ab_hi, cd_hi));
  }
#endif
  return col;
}

}  // namespace

void pack_conv_weight_rows(const int8_t* w, int64_t rows, int64_t c, int64_t kh, int64_t kw,
                           Format format, uint8_t* out) {
  const int64_t per = depth_per_group(format), blocks = (c + per - 1) / per;
  const int64_t groups = conv_depth_groups(c, kh, kw, format);
  std::memset(out, 0, size_t(rows * 4 * groups));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t cb = 0; cb < blocks; ++cb)
      for (int64_t ki = 0; ki < kh; ++ki)
        for (int64_t kj = 0; kj < kw; ++kj) {
          uint8_t* group = out + 4 * (r * groups + (cb * kh + ki) * kw + kj);
          for (int64_t j = 0; j < per && cb * per + j < c; ++j) {
            const int8_t v = w[((r * c + cb * per + j) * kh + ki) * kw + kj];
            if (format == Format::quads) {
              group[j] = static_cast<uint8_t>(v);
            } else {
              const auto wide = static_cast<uint16_t>(static_cast<int16_t>(v));
              group[2 * j] = static_cast<uint8_t>(wide);
              group[2 * j + 1] = static_cast<uint8_t>(wide >> 8);
            }
          }
        }
}

void block_image(const uint8_t* x, const Im2colShape& s, uint8_t zero_point, Format format,
                 uint8_t* out) {
  const int64_t per = depth_per_group(format), blocks = (s.c + per - 1) / per;
  const int64_t hp = s.padded_h(), wp = s.padded_w(), ph = s.padding[0], pw = s.padding[1];
  const uint32_t border = fill_group(zero_point, format);
  auto put = [](uint8_t* at, uint32_t group) { std::memcpy(at, &group, 4); };
  for (int64_t cb = 0; cb < blocks; ++cb) {
    const int64_t valid = std::min(per, s.c - cb * per);
    for (int64_t ii = 0; ii < hp; ++ii) {
      uint8_t* dst = out + 4 * (cb * hp + ii) * wp;
      const int64_t i = ii - ph;
      if (i < 0 || i >= s.h) {
        for (int64_t jj = 0; jj < wp; ++jj) put(dst + 4 * jj, border);
        continue;
      }
      for (int64_t jj = 0; jj < pw; ++jj) {
        put(dst + 4 * jj, border);
        put(dst + 4 * (pw + s.w + jj), border);
      }
      const uint8_t* ch[4] = {};
      for (int64_t j = 0; j < valid; ++j) ch[j] = x + ((cb * per + j) * s.h + i) * s.w;
      uint8_t* row = dst + 4 * pw;
      const int64_t done = valid == per ? interleave_row(ch, per, s.w, row) : 0;
      for (int64_t col = done; col < s.w; ++col)
        put(row + 4 * col, make_group(ch, per, col, zero_point, valid));
    }
  }
}

void blocked_group_offsets(const Im2colShape& s, Format format, int64_t* out) {
  const int64_t per = depth_per_group(format), blocks = (s.c + per - 1) / per;
  const int64_t hp = s.padded_h(), wp = s.padded_w();
  for (int64_t cb = 0; cb < blocks; ++cb)
    for (int64_t ki = 0; ki < s.kh; ++ki)
      for (int64_t kj = 0; kj < s.kw; ++kj)
        *out++ = 4 * ((cb * hp + ki * s.dilation[0]) * wp + kj * s.dilation[1]);
}

void im2col_panels(const uint8_t* blocked, const Im2colShape& s, Format format, int64_t panel_begin,
                   int64_t panel_end, uint8_t* out) {
  const int64_t pixels = s.pixels(), groups = conv_depth_groups(s.c, s.kh, s.kw, format);
  const int64_t stride = 4 * kLanes * groups;
  thread_local std::vector<int64_t> group_offset;
  group_offset.resize(size_t(groups));
  blocked_group_offsets(s, format, group_offset.data());
  for (int64_t t = panel_begin; t < panel_end; ++t) {
    uint8_t* dst = out + (t - panel_begin) * stride;
    const int64_t p0 = t * kLanes;
    // The pixels of [p0, p0 + 16) in one output row are 16 groups `stride` apart: contiguous at
    // stride 1, one copy.
    if (p0 + kLanes <= pixels && p0 / s.ow == (p0 + kLanes - 1) / s.ow) {
      const uint8_t* src = blocked + blocked_pixel_origin(s, p0);
      if (s.stride[1] == 1) {
        for (int64_t g = 0; g < groups; ++g)
          std::memcpy(dst + 4 * kLanes * g, src + group_offset[size_t(g)], 4 * kLanes);
        continue;
      }
      const int64_t step = 4 * s.stride[1];
      for (int64_t g = 0; g < groups; ++g) {
        const uint8_t* at = src + group_offset[size_t(g)];
        for (int64_t l = 0; l < kLanes; ++l)
          std::memcpy(dst + 4 * (kLanes * g + l), at + l * step, 4);
      }
      continue;
    }
    int64_t lane_origin[kLanes];
    for (int64_t l = 0; l < kLanes; ++l)
      lane_origin[l] = blocked_pixel_origin(s, p0 + l < pixels ? p0 + l : 0);
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t l = 0; l < kLanes; ++l)
        std::memcpy(dst + 4 * (kLanes * g + l), blocked + lane_origin[l] + group_offset[size_t(g)],
                    4);
  }
}

}  // namespace nabla::quant::kernels
