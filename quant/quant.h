// nabla's quantization module in one include: schemes, quantize/dequantize, observers, fake
// quantization (straight-through and LSQ) and the FakeQuantize module.
#pragma once

#include "quant/qscheme.h"
