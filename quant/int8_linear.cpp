// The linear driver of the int8 kernels: the activations as rows, the weight as panels (Note
// [int8 layouts] in quant/kernels/int8_kernels.h), rows split across threads.
#include "quant/int8_linear.h"

#include <cmath>
#include <vector>

#include "core/creation.h"
#include "core/error.h"
#include "core/ops.h"
#include "quant/int8_driver.h"
#include "quant/int8_output_plan.h"
#include "quant/kernels/int8_pack.h"

namespace nabla::quant {

namespace {

using kernels::Format;

Tensor linear(const Tensor& x, int64_t x_zero_point, float x_scale, const PackedInt8Weight& w,
              const Tensor& bias, const Requantization* out, Int8Kernel requested, const char* op) {
  NABLA_CHECK(w.defined() && !w.is_conv(), ValueError, op,
              ": needs a linear weight [N, K] packed by PackedInt8Weight, got ",
              w.defined() ? "a convolution's weight " : "an empty one", w.shape());
  NABLA_CHECK(x.defined(), ValueError, op, ": got an undefined input");
  NABLA_CHECK(x.device().is_cpu(), DeviceError, op, ": runs on the CPU, got an input on ",
              x.device());
  NABLA_CHECK(x.dtype() == kUInt8, DTypeError, op, ": the input must be uint8, got ", x.dtype(),
              " ", x.shape());
  const int64_t k = w.depth(), n = w.out_channels();
  NABLA_CHECK(x.dim() >= 1 && x.size(x.dim() - 1) == k, ShapeError, op, ": input ", x.shape(),
              " and weight ", w.shape(), " cannot be multiplied (",
              x.dim() ? x.size(x.dim() - 1) : 0, " != ", k, ")");
  NABLA_CHECK(0 <= x_zero_point && x_zero_point <= 255, ValueError, op,
              ": the input's zero point must lie in [0, 255], got ", x_zero_point);
  NABLA_CHECK(!out || (x_scale > 0 && std::isfinite(x_scale)), ValueError, op,
              ": the input's scale must be positive and finite, got ", x_scale);
  const OutputPlan plan(w, x_zero_point, x_scale, bias, out, op);

  const Tensor xc = core::contiguous(x);
  const int64_t m = xc.numel() / k;
  Shape out_shape = x.shape();
  out_shape.back() = n;
  const DType out_dtype = !out ? kInt32 : out->float_output ? kFloat32 : kUInt8;
  Tensor result = empty(out_shape, {.dtype = out_dtype});
  if (m == 0) return result;

  const uint8_t* xd = xc.data<uint8_t>();
  const Int8Kernel kernel = settle_int8_kernel(requested, xd, m * k, -1, op);
  const Format format = kernels::kernel_format(kernel);
  NABLA_ASSERT(w.has_format(format));

  // The rows are x itself when its rows are whole quads; otherwise a padded (or, for pairs,
  // widened) copy.
  Tensor rows;
  const uint8_t* row_data = xd;
  int64_t row_stride = k;
  if (format != Format::quads || k % 4 != 0) {
    row_stride = kernels::row_bytes(k, format);
    rows = empty({m * row_stride}, {.dtype = kUInt8});
    uint8_t* dst = rows.data<uint8_t>();
    parallel_ranges(m, 64, [&](int64_t begin, int64_t end) {
      kernels::pack_rows(xd + begin * k, end - begin, k, k, format, dst + begin * row_stride);
    });
    row_data = dst;
  }

  kernels::Problem p;
  p.rows = m;
  p.lanes = n;
  p.groups = kernels::depth_groups(k, format);
  p.row_data = row_data;
  p.row_stride = row_stride;
  const std::vector<const uint8_t*> halves =
      kernels::packed_halves(w.data(format, 0), w.stride(format), kernels::panel_count(n));
  p.halves = halves.data();
  p.rows_unsigned = true;
  p.epilogue = plan.group(0, result.raw_data(), n, false);
  run_int8_product(kernels::kernel_entry(kernel), p);
  return result;
}

}  // namespace

Tensor int8_linear(const Tensor& x, int64_t x_zero_point, float x_scale, const PackedInt8Weight& w,
                   const Tensor& bias, const Requantization& out, Int8Kernel kernel) {
  return linear(x, x_zero_point, x_scale, w, bias, &out, kernel, "int8_linear");
}

Tensor int8_matmul_int32(const Tensor& x, int64_t x_zero_point, const PackedInt8Weight& w,
                         Int8Kernel kernel) {
  return linear(x, x_zero_point, 1.0f, w, Tensor(), nullptr, kernel, "int8_matmul_int32");
}

}  // namespace nabla::quant
