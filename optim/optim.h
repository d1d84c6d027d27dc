// nabla's optimizers in one include: the driver and registry, oracles, schedules, clipping, early
// stopping and weight averaging.
#pragma once

#include "optim/clip.h"
#include "optim/early_stopping.h"
#include "optim/ema.h"
#include "optim/hessian_free.h"
#include "optim/kfac.h"
#include "optim/module_aware.h"
#include "optim/optimizer.h"
#include "optim/registry.h"
#include "optim/sam.h"
#include "optim/schedule.h"
#include "optim/schedules.h"
#include "optim/state_dict.h"
#include "optim/svrg.h"
