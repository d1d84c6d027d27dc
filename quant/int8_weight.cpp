// Packing int8 weights for the int8 kernels.
#include "quant/int8_weight.h"

#include <cmath>

#include "core/error.h"
#include "quant/int8_dispatch.h"
#include "quant/kernels/int8_im2col.h"
#include "quant/kernels/int8_pack.h"

namespace nabla::quant {

using kernels::Format;

PackedInt8Weight::PackedInt8Weight(const Tensor& weight, const Tensor& scale, int64_t groups) {
  NABLA_CHECK(weight.defined() && scale.defined(), ValueError,
              "PackedInt8Weight: needs a weight and its scale");
  NABLA_CHECK(weight.dtype() == kInt8, DTypeError,
              "PackedInt8Weight: the weight must be int8, got ", weight.dtype(), " ",
              weight.shape());
  NABLA_CHECK(weight.dim() == 2 || weight.dim() == 4, ShapeError,
              "PackedInt8Weight: the weight must be [N, K] (linear) or [O, C / groups, KH, KW] "
              "(convolution), got ",
              weight.shape());
  NABLA_CHECK(scale.dtype() == kFloat32, DTypeError,
              "PackedInt8Weight: the scale must be float32, got ", scale.dtype());
  const int64_t channels = weight.size(0);
  NABLA_CHECK(channels > 0 && weight.numel() > 0, ShapeError, "PackedInt8Weight: empty weight ",
              weight.shape());
  NABLA_CHECK(groups > 0 && channels % groups == 0, ValueError, "PackedInt8Weight: ", channels,
              " output channels do not split into ", groups, " groups (weight ", weight.shape(),
              ")");
  NABLA_CHECK(weight.dim() == 4 || groups == 1, ValueError,
              "PackedInt8Weight: a linear weight has one group, got ", groups);
  NABLA_CHECK(scale.numel() == 1 || scale.numel() == channels, ShapeError,
              "PackedInt8Weight: the scale needs 1 or ", channels, " values (weight ",
              weight.shape(), "), got shape ", scale.shape());
  shape_ = weight.shape();
  groups_ = groups;
  depth_ = weight.numel() / channels;
  // Products of up to this depth cannot overflow int32: 65536 * 255 * 127 < 2^31.
  NABLA_CHECK(depth_ <= 65536, ValueError, "PackedInt8Weight: depth ", depth_,
              " is more than the int32 sums allow (65536), weight ", weight.shape());

  const std::vector<int8_t> w = weight.to_vector<int8_t>();
  for (size_t i = 0; i < w.size(); ++i) {
    NABLA_CHECK(w[i] >= -127, ValueError, "PackedInt8Weight: weight value ", int(w[i]),
                " at flat index ", i, " is outside [-127, 127] (symmetric int8)");
  }
  const std::vector<float> s = scale.to_vector<float>();
  scales_.resize(size_t(channels));
  for (int64_t o = 0; o < channels; ++o) {
    const float v = s[s.size() == 1 ? 0 : size_t(o)];
    NABLA_CHECK(v > 0 && std::isfinite(v), ValueError,
                "PackedInt8Weight: scales must be positive and finite, got ", v, " for channel ",
                o);
    scales_[size_t(o)] = v;
  }

  const int64_t og = group_channels();
  padded_ = kernels::panel_count(og) * kernels::kLanes;
  row_sums_.assign(size_t(groups_ * padded_), 0);
  for (int64_t o = 0; o < channels; ++o) {
    int32_t sum = 0;
    for (int64_t k = 0; k < depth_; ++k) sum += w[size_t(o * depth_ + k)];
    row_sums_[size_t(o / og * padded_ + o % og)] = sum;
  }

  // Convolutions read their weights as rows, in the depth order of im2col (Note [int8
  // convolution depth order] in quant/kernels/int8_im2col.h), linear layers as panels (Note
  // [int8 layouts]).
  auto pack = [&](Format format, Packed& out) {
    if (is_conv()) {
      out.stride = 4 * kernels::conv_depth_groups(shape_[1], shape_[2], shape_[3], format);
      out.group_bytes = og * out.stride;
    } else {
      out.stride = kernels::panel_bytes(depth_, format);
      out.group_bytes = kernels::panel_count(og) * out.stride;
    }
    out.bytes.assign(size_t(groups_ * out.group_bytes), 0);
    for (int64_t g = 0; g < groups_; ++g) {
      const int8_t* src = w.data() + g * og * depth_;
      uint8_t* dst = out.bytes.data() + g * out.group_bytes;
      if (is_conv()) {
        kernels::pack_conv_weight_rows(src, og, shape_[1], shape_[2], shape_[3], format, dst);
      } else {
        kernels::pack_panels(src, og, depth_, depth_, format, dst);
      }
    }
  };
  pack(Format::quads, quads_);
  if (int8_kernel_available(Int8Kernel::avx2)) pack(Format::pairs, pairs_);
}

int32_t PackedInt8Weight::row_sum(int64_t channel) const {
  NABLA_CHECK(channel >= 0 && channel < out_channels(), IndexError,
              "PackedInt8Weight::row_sum: channel ", channel, " out of range [0, ", out_channels(),
              ")");
  const int64_t og = group_channels();
  return row_sums_[size_t(channel / og * padded_ + channel % og)];
}

bool PackedInt8Weight::has_format(Format format) const { return !packed(format).bytes.empty(); }

const uint8_t* PackedInt8Weight::data(Format format, int64_t group) const {
  const Packed& p = packed(format);
  NABLA_ASSERT(!p.bytes.empty() && group >= 0 && group < groups_);
  return p.bytes.data() + group * p.group_bytes;
}

int64_t PackedInt8Weight::stride(Format format) const { return packed(format).stride; }

}  // namespace nabla::quant
