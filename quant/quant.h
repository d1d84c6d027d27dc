// nabla's quantization module in one include: schemes, quantize/dequantize, observers, fake
// quantization (straight-through and LSQ) and the FakeQuantize module.
#pragma once

#include "quant/fake_quantize.h"
#include "quant/fake_quantize_module.h"
#include "quant/histogram_observer.h"
#include "quant/load_state.h"
#include "quant/minmax_observer.h"
#include "quant/moving_average_observer.h"
#include "quant/observer.h"
#include "quant/observer_factory.h"
#include "quant/percentile_observer.h"
#include "quant/qscheme.h"
