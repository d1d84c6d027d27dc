// The convolution driver of the int8 kernels: per image and group, the channel-blocked image,
// whose pixels the kernels read as panels (in place at stride 1, else through im2col), against the
// weight's rows (output channels), so that each output row is a run of an NCHW plane. Threads take
// whole images when there are enough of them, else share each image's panels.
#include "quant/int8_conv.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/creation.h"
#include "core/error.h"
#include "core/ops.h"
#include "quant/int8_driver.h"
#include "quant/int8_output_plan.h"
#include "quant/kernels/int8_im2col.h"
#include "quant/kernels/int8_pack.h"

namespace nabla::quant {

namespace {

using kernels::Format;

Tensor conv2d(const Tensor& x, int64_t x_zero_point, float x_scale, const PackedInt8Weight& w,
              const Tensor& bias, const Conv2dParams& p, const Requantization* out,
              Int8Kernel requested, const char* op) {
  NABLA_CHECK(w.defined() && w.is_conv(), ValueError, op,
              ": needs a convolution's weight [O, C / groups, KH, KW] packed by "
              "PackedInt8Weight, got ",
              w.defined() ? "a linear weight " : "an empty one", w.shape());
  NABLA_CHECK(x.defined(), ValueError, op, ": got an undefined input");
  NABLA_CHECK(x.device().is_cpu(), DeviceError, op, ": runs on the CPU, got an input on ",
              x.device());
  NABLA_CHECK(x.dtype() == kUInt8, DTypeError, op, ": the input must be uint8, got ", x.dtype(),
              " ", x.shape());
  NABLA_CHECK(x.dim() == 4, ShapeError, op, ": the input must be [N, C, H, W], got ", x.shape());
  NABLA_CHECK(p.groups == w.groups(), ValueError, op, ": groups is ", p.groups,
              " but the weight was packed with ", w.groups(), " (weight ", w.shape(), ")");
  const Shape& ws = w.shape();
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), wd = x.size(3);
  const int64_t o = ws[0], cg = ws[1], kh = ws[2], kw = ws[3], groups = p.groups;
  NABLA_CHECK(c == cg * groups, ShapeError, op, ": input has ", c, " channels but weight expects ",
              cg * groups, " (input ", x.shape(), ", weight ", ws, ", groups ", groups, ")");
  for (int i = 0; i < 2; ++i) {
    NABLA_CHECK(p.stride[i] > 0 && p.dilation[i] > 0 && p.padding[i] >= 0, ValueError, op,
                ": needs positive stride and dilation and non-negative padding, got stride ",
                p.stride[i], ", dilation ", p.dilation[i], ", padding ", p.padding[i]);
  }
  const int64_t span_h = p.dilation[0] * (kh - 1) + 1, span_w = p.dilation[1] * (kw - 1) + 1;
  NABLA_CHECK(h + 2 * p.padding[0] >= span_h && wd + 2 * p.padding[1] >= span_w, ShapeError, op,
              ": the kernel (", kh, "x", kw, " with dilation ", p.dilation[0], "x", p.dilation[1],
              ") is larger than the padded input (input ", x.shape(), ", padding ", p.padding[0],
              "x", p.padding[1], ")");
  NABLA_CHECK(0 <= x_zero_point && x_zero_point <= 255, ValueError, op,
              ": the input's zero point must lie in [0, 255], got ", x_zero_point);
  NABLA_CHECK(!out || (x_scale > 0 && std::isfinite(x_scale)), ValueError, op,
              ": the input's scale must be positive and finite, got ", x_scale);
  const OutputPlan plan(w, x_zero_point, x_scale, bias, out, op);

  kernels::Im2colShape s;
  s.c = cg;
  s.h = h;
  s.w = wd;
  s.kh = kh;
  s.kw = kw;
  s.oh = (h + 2 * p.padding[0] - span_h) / p.stride[0] + 1;
  s.ow = (wd + 2 * p.padding[1] - span_w) / p.stride[1] + 1;
  for (int i = 0; i < 2; ++i) {
    s.stride[i] = p.stride[i];
    s.padding[i] = p.padding[i];
    s.dilation[i] = p.dilation[i];
  }
  const DType out_dtype = !out ? kInt32 : out->float_output ? kFloat32 : kUInt8;
  Tensor result = empty({n, o, s.oh, s.ow}, {.dtype = out_dtype});
  if (n == 0) return result;

  const Tensor xc = core::contiguous(x);
  const uint8_t* xd = xc.data<uint8_t>();
  const bool padded = p.padding[0] > 0 || p.padding[1] > 0;
  const Int8Kernel kernel =
      settle_int8_kernel(requested, xd, xc.numel(), padded ? int(x_zero_point) : -1, op);
  const Format format = kernels::kernel_format(kernel);
  NABLA_ASSERT(w.has_format(format));
  const kernels::KernelFn entry = kernels::kernel_entry(kernel);

  const int64_t pixels = s.pixels(), og = w.group_channels(), panels = kernels::panel_count(pixels);
  const int64_t groups_k = kernels::conv_depth_groups(cg, kh, kw, format);
  const int64_t panel_stride = 4 * kernels::kLanes * groups_k;
  const size_t item = itemsize(out_dtype);
  char* y = static_cast<char*>(result.raw_data());
  // At stride 1 with whole halves of panels in each output row, the panels are read in place from
  // the channel-blocked image (Note [int8 layouts]); otherwise a few at a time are copied out by
  // im2col and go straight into the product while they are in L1 (up to 64 KiB of them).
  const bool in_place = kernels::panels_in_place(s);
  std::vector<int64_t> image_offsets(static_cast<size_t>(groups_k));
  kernels::blocked_group_offsets(s, format, image_offsets.data());
  const int64_t chunk = in_place ? panels : std::clamp<int64_t>(65536 / panel_stride, 1, 16);
  const int64_t chunks = (panels + chunk - 1) / chunk;

  kernels::Problem base;
  base.rows = og;
  base.groups = groups_k;
  base.row_stride = w.stride(format);
  base.rows_unsigned = false;

  // Image i, group g: the blocked image, then its chunks of panels, shared out across threads
  // when `split` (else the caller is one of them).
  auto run = [&](int64_t i, int64_t g, bool split) {
    thread_local std::vector<uint8_t> blocked;
    blocked.resize(size_t(kernels::blocked_image_bytes(s, format)));
    kernels::block_image(xd + (i * c + g * cg) * h * wd, s, uint8_t(x_zero_point), format,
                         blocked.data());
    const uint8_t* image = blocked.data();
    kernels::Problem prob = base;
    prob.row_data = w.data(format, g);
    const int64_t first = (i * o + g * og) * pixels;
    if (in_place) {
      thread_local std::vector<const uint8_t*> halves;
      halves.resize(size_t(2 * panels));
      for (int64_t t = 0; t < panels; ++t) {
        const int64_t p0 = t * kernels::kLanes, p1 = p0 + kernels::kHalfLanes;
        halves[size_t(2 * t)] = image + kernels::blocked_pixel_origin(s, p0);
        halves[size_t(2 * t + 1)] = image + kernels::blocked_pixel_origin(s, p1 < pixels ? p1 : p0);
      }
      prob.lanes = pixels;
      prob.halves = halves.data();
      prob.group_offset = image_offsets.data();
      prob.epilogue = plan.group(g, y + size_t(first) * item, pixels, true);
      if (split) {
        parallel_ranges(panels, 1, [&](int64_t b, int64_t e) { entry(prob, 0, og, b, e); });
      } else {
        entry(prob, 0, og, 0, panels);
      }
      return;
    }
    auto body = [&](int64_t begin, int64_t end) {
      thread_local std::vector<uint8_t> buffer;
      buffer.resize(size_t(chunk * panel_stride));
      const std::vector<const uint8_t*> halves =
          kernels::packed_halves(buffer.data(), panel_stride, chunk);
      kernels::Problem part = prob;
      part.halves = halves.data();
      for (int64_t q = begin; q < end; ++q) {
        const int64_t t0 = q * chunk, t1 = std::min(panels, t0 + chunk);
        kernels::im2col_panels(image, s, format, t0, t1, buffer.data());
        part.lanes = std::min(pixels - t0 * kernels::kLanes, chunk * kernels::kLanes);
        const int64_t at = first + t0 * kernels::kLanes;
        part.epilogue = plan.group(g, y + size_t(at) * item, pixels, true);
        entry(part, 0, og, 0, t1 - t0);
      }
    };
    if (split) {
      parallel_ranges(chunks, 1, body);
    } else {
      body(0, chunks);
    }
  };

  const int64_t threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (threads > 1 && n >= threads) {
    parallel_ranges(n, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
        for (int64_t g = 0; g < groups; ++g) run(i, g, false);
    });
    return result;
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t g = 0; g < groups; ++g) run(i, g, threads > 1);
  return result;
}

}  // namespace

Tensor int8_conv2d(const Tensor& x, int64_t x_zero_point, float x_scale, const PackedInt8Weight& w,
                   const Tensor& bias, const Conv2dParams& p, const Requantization& out,
                   Int8Kernel kernel) {
  return conv2d(x, x_zero_point, x_scale, w, bias, p, &out, kernel, "int8_conv2d");
}

Tensor int8_conv2d_int32(const Tensor& x, int64_t x_zero_point, const PackedInt8Weight& w,
                         const Conv2dParams& p, Int8Kernel kernel) {
  return conv2d(x, x_zero_point, 1.0f, w, Tensor(), p, nullptr, kernel, "int8_conv2d_int32");
}

}  // namespace nabla::quant
