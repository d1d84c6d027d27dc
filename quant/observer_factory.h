// Observers by kind or by name, with their options in one struct, so that a configuration (the
// CLI, a QAT recipe) can choose an observer with a string.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "quant/observer.h"
#include "quant/percentile_observer.h"

namespace nabla::quant {

enum class ObserverKind : uint8_t { min_max, moving_average_min_max, histogram, percentile };

// The options of every kind; each kind reads the ones it needs. Per-channel observation comes
// from the scheme (channel_axis set).
struct ObserverOptions {
  QScheme scheme = {};
  double averaging_constant = 0.01;  // moving_average_min_max
  int64_t bins = 2048;               // histogram
  double percentile = 99.99;         // percentile
  PercentileMode percentile_mode = PercentileMode::magnitude;
  int64_t channels = 0;  // per-channel size when known in advance (0: from the first batch)
};

// "min_max", "moving_average_min_max", "histogram", "percentile".
const char* name(ObserverKind kind);
// The kind of a name above; a ValueError listing the names otherwise.
ObserverKind observer_kind(const std::string& name);
std::vector<std::string> observer_names();

std::shared_ptr<Observer> make_observer(ObserverKind kind, const ObserverOptions& options = {});
std::shared_ptr<Observer> make_observer(const std::string& name,
                                        const ObserverOptions& options = {});

}  // namespace nabla::quant
