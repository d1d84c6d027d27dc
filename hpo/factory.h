// Samplers and pruners by name, with options as JSON: what a study stored in a database (and the
// nabla-hpo tool) uses to rebuild the study's sampler and pruner in every worker.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hpo/pruner.h"
#include "hpo/sampler.h"

namespace nabla::hpo {

// An unknown name, or an option the sampler does not have, is a ValueError listing what exists.
std::shared_ptr<Sampler> make_sampler(const std::string& name, const nlohmann::json& options,
                                      std::optional<uint64_t> seed);
std::shared_ptr<Pruner> make_pruner(const std::string& name, const nlohmann::json& options);

std::vector<std::string> sampler_names();
std::vector<std::string> pruner_names();

}  // namespace nabla::hpo
