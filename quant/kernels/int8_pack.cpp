// Packing rows and panels for the int8 kernels.
#include "quant/kernels/int8_pack.h"

#include <algorithm>
#include <cstring>

namespace nabla::quant::kernels {

namespace {

// The value's bytes in the packed group: itself for quads, its int16 in little-endian order for
// pairs (x86's order, which the vector loads read).
template <class T>
inline void put(uint8_t* group_bytes, int64_t j, T value, Format format) {
  if (format == Format::quads) {
    group_bytes[j] = static_cast<uint8_t>(value);
    return;
  }
  const auto wide = static_cast<uint16_t>(static_cast<int16_t>(value));
  group_bytes[2 * j] = static_cast<uint8_t>(wide);
  group_bytes[2 * j + 1] = static_cast<uint8_t>(wide >> 8);
}

}  // namespace

void pack_rows(const uint8_t* src, int64_t rows, int64_t depth, int64_t ld, Format format,
               uint8_t* out) {
  const int64_t bytes = row_bytes(depth, format);
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* row = src + r * ld;
    uint8_t* dst = out + r * bytes;
    if (format == Format::quads) {
      std::memcpy(dst, row, size_t(depth));
      std::fill(dst + depth, dst + bytes, uint8_t{0});
      continue;
    }
    for (int64_t k = 0; k < depth; ++k) put(dst, k, row[k], format);
    std::fill(dst + 2 * depth, dst + bytes, uint8_t{0});
  }
}

void pack_panels(const int8_t* src, int64_t lanes, int64_t depth, int64_t ld, Format format,
                 uint8_t* out) {
  const int64_t per = depth_per_group(format), groups = depth_groups(depth, format);
  const int64_t panels = panel_count(lanes);
  std::fill(out, out + panels * panel_bytes(depth, format), uint8_t{0});
  for (int64_t l = 0; l < lanes; ++l) {
    uint8_t* panel = out + (l / kLanes) * panel_bytes(depth, format);
    for (int64_t g = 0; g < groups; ++g) {
      uint8_t* group = panel + 4 * (g * kLanes + l % kLanes);
      for (int64_t j = 0; j < per && g * per + j < depth; ++j)
        put(group, j, src[l * ld + g * per + j], format);
    }
  }
}

std::vector<const uint8_t*> packed_halves(const uint8_t* data, int64_t stride, int64_t panels) {
  std::vector<const uint8_t*> halves(size_t(2 * panels));
  for (int64_t t = 0; t < panels; ++t) {
    halves[size_t(2 * t)] = data + t * stride;
    halves[size_t(2 * t + 1)] = data + t * stride + 4 * kHalfLanes;
  }
  return halves;
}

}  // namespace nabla::quant::kernels
