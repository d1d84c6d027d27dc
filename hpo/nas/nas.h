// nabla::hpo::nas's public API: architecture search spaces (macro and DARTS cells) and the
// networks they describe.
#pragma once

#include "hpo/nas/blocks.h"
#include "hpo/nas/budget.h"
#include "hpo/nas/darts_search.h"
#include "hpo/nas/darts_space.h"
#include "hpo/nas/latency_table.h"
#include "hpo/nas/macro_space.h"
