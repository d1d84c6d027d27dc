// A study's trials as a CSV table (a row per trial, a column per parameter, value and attribute)
// and as a JSON document (the study and every trial in full).
#pragma once

#include <ostream>
#include <span>

#include <nlohmann/json.hpp>

#include "hpo/storage.h"

namespace nabla::hpo {

// Columns: number, state, value (or values_0, values_1, ...), datetime_start,
// datetime_complete, duration_s, params_<name>..., user_attrs_<key>...; a parameter a trial
// lacks is an empty cell. Text cells are quoted as RFC 4180 says.
void write_trials_csv(const StudyInfo& study, std::span<const TrialPtr> trials, std::ostream& out);
nlohmann::json trials_to_json(const StudyInfo& study, std::span<const TrialPtr> trials);

}  // namespace nabla::hpo
