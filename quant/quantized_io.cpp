// Quantize and Dequantize.
#include "quant/quantized_io.h"

namespace nabla::quant {

Quantize::Quantize(const EdgeQParams& output) : QuantizedModule("Quantize"), output_(output) {
  register_edge("output", output);
}

Tensor Quantize::forward(const Tensor& x) { return quantize_uint8(x, output_); }

std::string Quantize::extra_repr() const { return "output=" + output_.to_string(); }

Dequantize::Dequantize(const EdgeQParams& input) : QuantizedModule("Dequantize"), input_(input) {
  register_edge("input", input);
}

Tensor Dequantize::forward(const Tensor& x) {
  check_uint8_input(x, 0, "Dequantize::forward");
  return dequantize_uint8(x, input_);
}

std::string Dequantize::extra_repr() const { return "input=" + input_.to_string(); }

}  // namespace nabla::quant
