// WeightOnlyLinear.
#include "quant/weight_only_linear.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <vector>

#include "core/creation.h"
#include "core/error.h"
#include "core/ops.h"
#include "quant/int8_driver.h"

namespace nabla::quant {
namespace {

int nibble_value(uint8_t byte, int64_t k) {
  const int nibble = (k % 2 == 0) ? (byte & 0x0F) : (byte >> 4);
  return nibble >= 8 ? nibble - 16 : nibble;
}

}  // namespace

WeightOnlyLinear::WeightOnlyLinear(const Tensor& weight, const Tensor& bias,
                                   const WeightOnlyOptions& options)
    : QuantizedModule("WeightOnlyLinear"), dtype_(options.dtype) {
  const char* op = "WeightOnlyLinear";
  NABLA_CHECK(dtype_ == QDType::int4 || dtype_ == QDType::int8, ValueError, op,
              ": weights are int4 or int8, got ", name(dtype_));
  NABLA_CHECK(options.group_size >= 0, ValueError, op, ": group_size must be >= 0, got ",
              options.group_size);
  NABLA_CHECK(weight.defined() && is_floating(weight.dtype()) && weight.dim() == 2, DTypeError, op,
              ": the weight must be a float [N, K] tensor, got ",
              weight.defined() ? weight.shape() : Shape{});
  const Tensor w = core::contiguous(core::to(core::to(weight, Device::cpu()), kFloat32));
  const int64_t rows = w.size(0);
  in_features_ = w.size(1);
  group_ = options.group_size == 0
               ? std::max<int64_t>(in_features_, 1)
               : std::min(options.group_size, std::max<int64_t>(in_features_, 1));
  const int64_t groups = (in_features_ + group_ - 1) / group_;
  const QScheme scheme{.dtype = dtype_, .mode = QMode::symmetric, .narrow_range = true};
  const float qmax = static_cast<float>(scheme.qmax());

  const float* src = w.data<float>();
  std::vector<float> scales(static_cast<size_t>(rows * groups));
  std::vector<uint8_t> packed(static_cast<size_t>(rows * row_bytes()), 0);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t begin = g * group_, end = std::min(begin + group_, in_features_);
      float amax = 0;
      for (int64_t k = begin; k < end; ++k)
        amax = std::max(amax, std::fabs(src[r * in_features_ + k]));
      NABLA_CHECK(std::isfinite(amax), ValueError, op, ": row ", r, " holds a non-finite weight");
      const float scale = choose_qparams(-amax, amax, scheme).scale;
      scales[size_t(r * groups + g)] = scale;
      for (int64_t k = begin; k < end; ++k) {
        const int q = static_cast<int>(
            std::clamp(std::nearbyint(src[r * in_features_ + k] / scale), -qmax, qmax));
        uint8_t* row = packed.data() + r * row_bytes();
        if (dtype_ == QDType::int8) {
          row[k] = static_cast<uint8_t>(static_cast<int8_t>(q));
        } else {
          const uint8_t nibble = static_cast<uint8_t>(q) & 0x0F;
          row[k / 2] |= (k % 2 == 0) ? nibble : static_cast<uint8_t>(nibble << 4);
        }
      }
    }
  }
  // int8 keeps its own dtype in the state dict; the bytes are the same (two's complement).
  weight_ = register_buffer(
      "weight", dtype_ == QDType::int8
                    ? from_vector<int8_t>(std::vector<int8_t>(packed.begin(), packed.end()),
                                          {rows, row_bytes()})
                    : from_vector<uint8_t>(packed, {rows, row_bytes()}));
  scale_ = register_buffer("weight_scale", from_vector<float>(scales, {rows, groups}));
  Tensor b = bias.defined() ? core::contiguous(core::to(core::to(bias, Device::cpu()), kFloat32))
                            : zeros({rows});
  NABLA_CHECK(b.dim() == 1 && b.size(0) == rows, ShapeError, op, ": bias ", b.shape(),
              " does not match ", rows, " output features");
  bias_ = register_buffer("bias", b);
}

void WeightOnlyLinear::refresh() {
  const char* op = "WeightOnlyLinear::refresh";
  for (float s : scale_.to_vector<float>())
    NABLA_CHECK(std::isfinite(s) && s > 0, ValueError, op, ": weight scale ", s,
                " is not positive and finite");
  const int low = dtype_ == QDType::int4 ? -7 : -127;
  const int64_t rows = out_features();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t k = 0; k < in_features_; ++k) {
      const int v = dtype_ == QDType::int4
                        ? nibble_value(weight_.data<uint8_t>()[r * row_bytes() + k / 2], k)
                        : weight_.data<int8_t>()[r * row_bytes() + k];
      NABLA_CHECK(v >= low, ValueError, op, ": weight value ", v, " at row ", r, ", column ", k,
                  " is outside [", low, ", ", -low, "] (symmetric ", name(dtype_), ")");
    }
  }
}

Tensor WeightOnlyLinear::dequantized_weight() const {
  const int64_t rows = out_features(), groups = scale_.size(1), k_total = in_features_;
  Tensor out = empty({rows, k_total});
  float* dst = out.data<float>();
  const float* scales = scale_.data<float>();
  const bool int4 = dtype_ == QDType::int4;
  const uint8_t* packed = int4 ? weight_.data<uint8_t>() : nullptr;
  const int8_t* bytes = int4 ? nullptr : weight_.data<int8_t>();
  // Every forward pays this, so rows go to nabla's threads, each group's scale is read once and
  // int4 bytes give two values at a time (groups and rows start on even columns unless K is odd).
  parallel_ranges(rows, 16, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      float* row_out = dst + r * k_total;
      for (int64_t g = 0; g < groups; ++g) {
        const float scale = scales[r * groups + g];
        const int64_t k0 = g * group_, k1 = std::min(k0 + group_, k_total);
        if (!int4) {
          const int8_t* row = bytes + r * row_bytes();
          for (int64_t k = k0; k < k1; ++k) row_out[k] = float(row[k]) * scale;
          continue;
        }
        const uint8_t* row = packed + r * row_bytes();
        int64_t k = k0;
        if (k % 2 == 1 && k < k1) {
          row_out[k] = float(nibble_value(row[k / 2], k)) * scale;
          ++k;
        }
        for (; k + 1 < k1; k += 2) {
          const uint8_t byte = row[k / 2];
          row_out[k] = float(int8_t(uint8_t(byte << 4)) >> 4) * scale;
          row_out[k + 1] = float(int8_t(byte) >> 4) * scale;
        }
        if (k < k1) row_out[k] = float(nibble_value(row[k / 2], k)) * scale;
      }
    }
  });
  return out;
}

Tensor WeightOnlyLinear::forward(const Tensor& x) {
  NABLA_CHECK(x.defined() && is_floating(x.dtype()) && x.dim() >= 1 && x.size(-1) == in_features_,
              ShapeError, "WeightOnlyLinear::forward: input ", x.defined() ? x.shape() : Shape{},
              " is not a float tensor ending in ", in_features_, " features");
  const Tensor y = core::matmul(core::to(x, kFloat32), core::transpose(dequantized_weight(), 0, 1));
  return core::binary(BinaryOp::add, y, bias_);
}

std::string WeightOnlyLinear::extra_repr() const {
  std::ostringstream os;
  os << "in_features=" << in_features_ << ", out_features=" << out_features()
     << ", weight=" << name(dtype_) << " symmetric, group_size=" << group_ << ", activations=float";
  return os.str();
}

}  // namespace nabla::quant
