// nabla's nn module in one include: modules, layers, activations, losses, initializers, models
// and checkpoints.
#pragma once

#include "nn/activation.h"
#include "nn/checkpoint.h"
#include "nn/containers.h"
#include "nn/conv.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/loss.h"
#include "nn/models/cnn.h"
#include "nn/models/fastnet.h"
#include "nn/models/mlp.h"
#include "nn/models/registry.h"
#include "nn/models/resnet.h"
#include "nn/module.h"
#include "nn/normalization.h"
#include "nn/pooling.h"
#include "nn/safetensors.h"
