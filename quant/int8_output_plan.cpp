// The fused output step's per-channel arrays, and the checks on what the caller asked for.
#include "quant/int8_output_plan.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace nabla::quant {

void Requantization::validate(const char* op) const {
  if (float_output) return;
  NABLA_CHECK(scale > 0 && std::isfinite(scale), ValueError, op,
              ": the output scale must be positive and finite, got ", scale);
  NABLA_CHECK(0 <= qmin && qmin <= zero_point && zero_point <= qmax && qmax <= 255, ValueError, op,
              ": the uint8 output needs 0 <= qmin <= zero_point <= qmax <= 255, got qmin ", qmin,
              ", zero_point ", zero_point, ", qmax ", qmax);
}

OutputPlan::OutputPlan(const PackedInt8Weight& w, int64_t x_zero_point, float x_scale,
                       const Tensor& bias, const Requantization* out, const char* op) {
  const int64_t channels = w.out_channels(), og = w.group_channels();
  padded_ = w.padded_group_channels();
  if (out) out->validate(op);
  std::vector<float> b;
  if (bias.defined()) {
    NABLA_CHECK(bias.dtype() == kFloat32, DTypeError, op, ": the bias must be float32, got ",
                bias.dtype());
    NABLA_CHECK(bias.dim() == 1 && bias.size(0) == channels, ShapeError, op, ": the bias must be [",
                channels, "] for weight ", w.shape(), ", got ", bias.shape());
    b = bias.to_vector<float>();
  }
  const size_t size = size_t(w.groups() * padded_);
  correction_.assign(size, 0);
  multiplier_.assign(size, 0.0f);
  offset_.assign(size, 0.0f);
  for (int64_t o = 0; o < channels; ++o) {
    const size_t at = size_t(o / og * padded_ + o % og);
    // |x_zero_point| <= 255 and |row sum| <= 65536 * 127: the product fits in int32.
    correction_[at] = static_cast<int32_t>(x_zero_point) * w.row_sum(o);
    if (!out) continue;
    const float dequant = x_scale * w.scales()[size_t(o)];
    const float bias_o = b.empty() ? 0.0f : b[size_t(o)];
    multiplier_[at] = out->float_output ? dequant : dequant / out->scale;
    offset_[at] = out->float_output ? bias_o : bias_o / out->scale;
  }

  using Kind = kernels::Epilogue::Kind;
  base_.kind = !out ? Kind::int32 : out->float_output ? Kind::float32 : Kind::uint8;
  if (out && !out->float_output) {
    const int64_t lo = out->relu ? std::max(out->qmin, out->zero_point) : out->qmin;
    base_.lo = static_cast<float>(lo - out->zero_point);
    base_.hi = static_cast<float>(out->qmax - out->zero_point);
    base_.zero_point = static_cast<int32_t>(out->zero_point);
  }
  base_.relu = out && out->relu;
}

kernels::Epilogue OutputPlan::group(int64_t g, void* out, int64_t ld, bool channels_on_rows) const {
  kernels::Epilogue e = base_;
  e.out = out;
  e.ld = ld;
  e.channels_on_rows = channels_on_rows;
  e.correction = correction_.data() + g * padded_;
  e.multiplier = multiplier_.data() + g * padded_;
  e.offset = offset_.data() + g * padded_;
  return e;
}

}  // namespace nabla::quant
