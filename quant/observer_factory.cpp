// The observer factory: one table of names, one switch over kinds.
#include "quant/observer_factory.h"

#include <array>
#include <sstream>

#include "quant/histogram_observer.h"
#include "quant/minmax_observer.h"
#include "quant/moving_average_observer.h"

namespace nabla::quant {

namespace {
constexpr std::array kKinds = {ObserverKind::min_max, ObserverKind::moving_average_min_max,
                               ObserverKind::histogram, ObserverKind::percentile};
}

const char* name(ObserverKind kind) {
  switch (kind) {
    case ObserverKind::min_max:
      return "min_max";
    case ObserverKind::moving_average_min_max:
      return "moving_average_min_max";
    case ObserverKind::histogram:
      return "histogram";
    case ObserverKind::percentile:
      return "percentile";
  }
  return "?";
}

std::vector<std::string> observer_names() {
  std::vector<std::string> names;
  for (ObserverKind kind : kKinds) names.push_back(name(kind));
  return names;
}

ObserverKind observer_kind(const std::string& observer_name) {
  for (ObserverKind kind : kKinds)
    if (observer_name == name(kind)) return kind;
  std::ostringstream known;
  for (ObserverKind kind : kKinds) known << (kind == kKinds[0] ? "" : ", ") << name(kind);
  throw ValueError(detail::concat("make_observer: unknown observer '", observer_name,
                                  "' (known: ", known.str(), ")"));
}

std::shared_ptr<Observer> make_observer(ObserverKind kind, const ObserverOptions& options) {
  switch (kind) {
    case ObserverKind::min_max:
      return std::make_shared<MinMaxObserver>(options.scheme, options.channels);
    case ObserverKind::moving_average_min_max:
      return std::make_shared<MovingAverageMinMaxObserver>(
          options.scheme, options.averaging_constant, options.channels);
    case ObserverKind::histogram:
      NABLA_CHECK(options.channels == 0, ValueError,
                  "make_observer: the histogram observer is per-tensor, got channels ",
                  options.channels);
      return std::make_shared<HistogramObserver>(options.scheme, options.bins);
    case ObserverKind::percentile:
      return std::make_shared<PercentileObserver>(options.scheme, options.percentile,
                                                  options.percentile_mode, options.channels);
  }
  throw ValueError("make_observer: unknown observer kind");
}

std::shared_ptr<Observer> make_observer(const std::string& name, const ObserverOptions& options) {
  return make_observer(observer_kind(name), options);
}

}  // namespace nabla::quant
