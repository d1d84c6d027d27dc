// nabla::hpo::nas's public API: architecture search spaces and the networks they describe.
#pragma once

#include "hpo/nas/blocks.h"
#include "hpo/nas/macro_space.h"
