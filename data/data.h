// nabla's data module in one include: datasets, loaders, transforms and readers.
#pragma once

#include "data/cifar.h"
#include "data/dataset.h"
#include "data/idx.h"
#include "data/image.h"
#include "data/loader.h"
#include "data/paths.h"
#include "data/random.h"
#include "data/transforms.h"
