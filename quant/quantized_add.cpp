// QuantizedAdd and its kernel.
#include "quant/quantized_add.h"

#include <algorithm>
#include <cmath>

#include "core/creation.h"
#include "core/error.h"
#include "core/ops.h"

namespace nabla::quant {
namespace {

struct AddConstants {
  float za, ma, zb, mb, zo, lo, hi;
};

// One thread's span: a plain loop, which GCC vectorizes at -march=native (vfmadd, vroundps;
// with the rounding by adding 1.5 * 2^23, or inside an OpenMP simd loop, it did not). Builds
// without NABLA_NATIVE run it scalar, with the same results. The clamp comes after the
// rounding, before the conversion, so no value overflows it.
void add_span(const uint8_t* a, const uint8_t* b, uint8_t* out, int64_t n, AddConstants k) {
  for (int64_t i = 0; i < n; ++i) {
    // One explicit fma, so that no compiler contracts the sum differently (-ffp-contract).
    float v = std::nearbyint(std::fma(float(a[i]) - k.za, k.ma, (float(b[i]) - k.zb) * k.mb));
    v = std::min(k.hi, std::max(k.lo, v + k.zo));
    out[i] = static_cast<uint8_t>(static_cast<int32_t>(v));
  }
}

void add_kernel(const uint8_t* a, const uint8_t* b, uint8_t* out, int64_t n,
                const AddConstants& k) {
  constexpr int64_t kChunk = 1 << 14;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for if (chunks > 2) schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t begin = c * kChunk, count = std::min(kChunk, n - begin);
    add_span(a + begin, b + begin, out + begin, count, k);
  }
}

}  // namespace

Tensor quantized_add(const Tensor& a, const EdgeQParams& a_qparams, const Tensor& b,
                     const EdgeQParams& b_qparams, const EdgeQParams& output, bool relu) {
  check_uint8_input(a, 0, "quantized_add");
  check_uint8_input(b, 0, "quantized_add");
  NABLA_CHECK(a.shape() == b.shape(), ShapeError, "quantized_add: shapes ", a.shape(), " and ",
              b.shape(), " differ (no broadcasting)");
  const Tensor ac = core::contiguous(a), bc = core::contiguous(b);
  Tensor out = empty(a.shape(), {.dtype = kUInt8});
  const int64_t lo = relu ? std::max(output.qmin, output.zero_point) : output.qmin;
  const AddConstants k{.za = float(a_qparams.zero_point),
                       .ma = a_qparams.scale / output.scale,
                       .zb = float(b_qparams.zero_point),
                       .mb = b_qparams.scale / output.scale,
                       .zo = float(output.zero_point),
                       .lo = float(lo),
                       .hi = float(output.qmax)};
  add_kernel(ac.data<uint8_t>(), bc.data<uint8_t>(), out.data<uint8_t>(), a.numel(), k);
  return out;
}

QuantizedAdd::QuantizedAdd(const EdgeQParams& a, const EdgeQParams& b, const EdgeQParams& output,
                           bool relu)
    : QuantizedModule("QuantizedAdd"), a_(a), b_(b), output_(output), relu_(relu) {
  register_edge("a", a);
  register_edge("b", b);
  register_edge("output", output);
}

Tensor QuantizedAdd::add(const Tensor& a, const Tensor& b) const {
  return quantized_add(a, a_, b, b_, output_, relu_);
}

Tensor QuantizedAdd::forward(const Tensor& x) {
  NABLA_CHECK(false, ValueError, "QuantizedAdd::forward: an add takes two inputs, got one ",
              x.defined() ? x.shape() : Shape{}, "; call QuantizedAdd::add(a, b)");
  return Tensor();
}

void QuantizedAdd::refresh() {
  a_ = read_edge("a", "QuantizedAdd::refresh");
  b_ = read_edge("b", "QuantizedAdd::refresh");
  output_ = read_edge("output", "QuantizedAdd::refresh");
}

std::string QuantizedAdd::extra_repr() const {
  return "a=" + a_.to_string() + ", b=" + b_.to_string() + ", output=" + output_.to_string() +
         ", relu=" + (relu_ ? "true" : "false");
}

}  // namespace nabla::quant
