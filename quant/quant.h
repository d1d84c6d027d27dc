// nabla's quantization module in one include: schemes, quantize/dequantize, observers, fake
// quantization (straight-through and LSQ) and the FakeQuantize module, batch-norm folding and
// the PTQ and QAT preparation flows.
#pragma once

#include "quant/calibrate.h"
#include "quant/fake_quantize.h"
#include "quant/fake_quantize_module.h"
#include "quant/fold.h"
#include "quant/histogram_observer.h"
#include "quant/load_state.h"
#include "quant/minmax_observer.h"
#include "quant/module_graph.h"
#include "quant/moving_average_observer.h"
#include "quant/observer.h"
#include "quant/observer_factory.h"
#include "quant/percentile_observer.h"
#include "quant/prepare.h"
#include "quant/prepared.h"
#include "quant/qat.h"
#include "quant/qscheme.h"
