// nabla's quantization module in one include: schemes, quantize/dequantize, observers, fake
// quantization (straight-through and LSQ) and the FakeQuantize module, batch-norm folding and
// the PTQ and QAT preparation flows, and the integer side: int8 modules, convert, dynamic
// quantization and int8 checkpoints.
#pragma once

#include "quant/calibrate.h"
#include "quant/convert.h"
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
#include "quant/quantize_dynamic.h"
#include "quant/quantized_add.h"
#include "quant/quantized_block.h"
#include "quant/quantized_checkpoint.h"
#include "quant/quantized_conv.h"
#include "quant/quantized_dynamic_linear.h"
#include "quant/quantized_io.h"
#include "quant/quantized_linear.h"
#include "quant/quantized_module.h"
#include "quant/quantized_pool.h"
#include "quant/quantized_weight.h"
