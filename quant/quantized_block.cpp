// QuantizedBasicBlock.
#include "quant/quantized_block.h"

#include "core/creation.h"
#include "core/error.h"
#include "core/ops.h"

namespace nabla::quant {

QuantizedBasicBlock::QuantizedBasicBlock(std::shared_ptr<QuantizedConv2d> conv1,
                                         std::shared_ptr<QuantizedConv2d> conv2,
                                         std::shared_ptr<QuantizedConv2d> projection,
                                         std::shared_ptr<QuantizedAdd> add, int64_t stride,
                                         int64_t pad_channels)
    : QuantizedModule("QuantizedBasicBlock"), stride_(stride), pad_channels_(pad_channels) {
  NABLA_CHECK(conv1 && conv2 && add, ValueError,
              "QuantizedBasicBlock: conv1, conv2 and add are required");
  NABLA_CHECK(stride >= 1 && pad_channels >= 0, ValueError,
              "QuantizedBasicBlock: stride must be positive and pad_channels non-negative, got ",
              stride, " and ", pad_channels);
  NABLA_CHECK(projection || add->b_qparams() == conv1->input_qparams(), ValueError,
              "QuantizedBasicBlock: without a projection the add's second input is the block's "
              "input, but its qparams ",
              add->b_qparams().to_string(), " differ from conv1's input qparams ",
              conv1->input_qparams().to_string());
  conv1_ = register_module("conv1", std::move(conv1));
  conv2_ = register_module("conv2", std::move(conv2));
  if (projection) projection_ = register_module("shortcut", std::move(projection));
  add_ = register_module("add", std::move(add));
}

Tensor QuantizedBasicBlock::shortcut(const Tensor& x) {
  if (projection_) return (*projection_)(x);
  if (stride_ == 1 && pad_channels_ == 0) return x;
  // Option A: every stride-th pixel, then zero channels, which quantize to the zero point.
  Tensor id = core::slice(core::slice(x, 2, 0, x.size(2), stride_), 3, 0, x.size(3), stride_);
  if (pad_channels_ > 0) {
    Shape pad_shape = id.shape();
    pad_shape[1] = pad_channels_;
    id = core::cat(
        {id, full(pad_shape, double(conv1_->input_qparams().zero_point), {.dtype = kUInt8})}, 1);
  }
  return core::contiguous(id);
}

Tensor QuantizedBasicBlock::forward(const Tensor& x) {
  check_uint8_input(x, 4, "QuantizedBasicBlock::forward");
  // [N, in, H, W] -> [N, out, H / s, W / s], twice, then the join.
  const Tensor y = (*conv2_)((*conv1_)(x));
  return add_->add(y, shortcut(x));
}

std::string QuantizedBasicBlock::extra_repr() const {
  if (projection_) return "shortcut=projection";
  if (stride_ == 1 && pad_channels_ == 0) return "shortcut=identity";
  return "shortcut=zero_pad(stride=" + std::to_string(stride_) +
         ", pad_channels=" + std::to_string(pad_channels_) + ")";
}

}  // namespace nabla::quant
