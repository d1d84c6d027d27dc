// nabla::hpo's public API: studies, trials, samplers, pruners and storages.
#pragma once

#include "hpo/distribution.h"
#include "hpo/export.h"
#include "hpo/frozen_trial.h"
#include "hpo/in_memory_storage.h"
#include "hpo/pareto.h"
#include "hpo/pruner.h"
#include "hpo/ranking.h"
#include "hpo/sampler.h"
#include "hpo/samplers/parzen_estimator.h"
#include "hpo/samplers/random.h"
#include "hpo/samplers/tpe.h"
#include "hpo/search_space.h"
#include "hpo/storage.h"
#include "hpo/study.h"
#include "hpo/trial.h"
#include "hpo/warm_start.h"
