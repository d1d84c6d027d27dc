// A layer's int8 weights packed once, at conversion, into the layout of the int8 kernels, with
// the per-channel scales and row sums that the products' output step needs.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "quant/kernels/int8_kernels.h"

namespace nabla::quant {

class PackedInt8Weight {
 public:
  PackedInt8Weight() = default;
  // weight: int8, [N, K] for a linear layer or [O, C / groups, KH, KW] for a convolution, with
  // values in [-127, 127] (symmetric quantization); scale: float32, one positive value per output
  // channel, or one for the whole tensor. The tensors are copied, not kept.
  PackedInt8Weight(const Tensor& weight, const Tensor& scale, int64_t groups = 1);

  bool defined() const { return !shape_.empty(); }
  bool is_conv() const { return shape_.size() == 4; }
  // The int8 weight's shape; its size in bytes is numel(shape()).
  const Shape& shape() const { return shape_; }
  int64_t out_channels() const { return shape_.empty() ? 0 : shape_[0]; }
  int64_t groups() const { return groups_; }
  int64_t group_channels() const { return out_channels() / groups_; }
  // Depth of the product: K, or C / groups * KH * KW.
  int64_t depth() const { return depth_; }
  // Per output channel.
  const std::vector<float>& scales() const { return scales_; }
  int32_t row_sum(int64_t channel) const;

  // What the kernels read (Note [int8 layouts] in quant/kernels/int8_kernels.h): group g's
  // weights as rows of group_channels() (a convolution, in im2col's depth order) or as panels
  // over them (a linear layer), in `format`, entries `stride(format)` bytes apart; row sums per
  // group, padded to whole panels. Pairs exist only where the CPU runs the AVX2 kernels.
  bool has_format(kernels::Format format) const;
  const uint8_t* data(kernels::Format format, int64_t group) const;
  int64_t stride(kernels::Format format) const;
  const int32_t* row_sums(int64_t group) const { return row_sums_.data() + group * padded_; }
  int64_t padded_group_channels() const { return padded_; }

 private:
  struct Packed {
    std::vector<uint8_t> bytes;
    int64_t stride = 0, group_bytes = 0;
  };
  const Packed& packed(kernels::Format format) const {
    return format == kernels::Format::quads ? quads_ : pairs_;
  }

  Shape shape_;
  int64_t groups_ = 1, depth_ = 0, padded_ = 0;
  std::vector<float> scales_;
  std::vector<int32_t> row_sums_;  // [groups][padded_]
  Packed quads_, pairs_;
};

}  // namespace nabla::quant
