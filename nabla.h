// nabla's public API in one include: tensors, ops, autograd, nn, data, optim, quant, hpo and
// hpo::nas.
#pragma once

#include "autograd/dot.h"
#include "autograd/engine.h"
#include "autograd/functional.h"
#include "autograd/grad_mode.h"
#include "autograd/gradcheck.h"
#include "autograd/hooks.h"
#include "autograd/ops.h"
#include "core/creation.h"
#include "core/generator.h"
#include "core/parallel.h"
#include "core/tensor.h"
#include "data/data.h"
#include "hpo/hpo.h"
#include "hpo/nas/nas.h"
#include "nn/nn.h"
#include "optim/optim.h"
#include "quant/quant.h"
