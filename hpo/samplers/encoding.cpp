// The unit-interval encoding of numeric parameters and the search-space fingerprint.
#include "hpo/samplers/encoding.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.h"

namespace nabla::hpo {

namespace {

// The range [lo, hi] that maps onto [0, 1], in the mapped (linear or log) scale.
std::pair<double, double> unit_range(const Distribution& d) {
  NABLA_CHECK(is_numeric(d), ValueError, "to_unit: a categorical distribution ", to_json(d).dump(),
              " has no numeric scale");
  double low, high;
  bool log;
  if (const auto* f = std::get_if<FloatDistribution>(&d)) {
    low = f->low;
    high = f->high;
    log = f->log;
  } else {
    const auto& i = std::get<IntDistribution>(d);
    low = static_cast<double>(i.low);
    high = static_cast<double>(i.high);
    log = i.log;
  }
  if (auto step = grid_step(d)) {
    low -= *step / 2;
    high += *step / 2;
  }
  if (log) return {std::log(low), std::log(high)};
  return {low, high};
}

bool is_log(const Distribution& d) {
  if (const auto* f = std::get_if<FloatDistribution>(&d)) return f->log;
  return std::get<IntDistribution>(d).log;
}

}  // namespace

bool is_numeric(const Distribution& d) {
  return !std::holds_alternative<CategoricalDistribution>(d);
}

std::optional<double> grid_step(const Distribution& d) {
  if (const auto* f = std::get_if<FloatDistribution>(&d)) return f->step;
  if (const auto* i = std::get_if<IntDistribution>(&d)) return static_cast<double>(i->step);
  return std::nullopt;
}

double to_unit(const Distribution& d, double internal) {
  const auto [lo, hi] = unit_range(d);
  const double x = is_log(d) ? std::log(internal) : internal;
  return hi > lo ? (x - lo) / (hi - lo) : 0.5;
}

double from_unit(const Distribution& d, double unit) {
  const auto [lo, hi] = unit_range(d);
  const double x = lo + unit * (hi - lo);
  return is_log(d) ? std::exp(x) : x;
}

double decode_unit(const Distribution& d, double u) {
  u = std::clamp(u, 0.0, 1.0);
  if (const auto* c = std::get_if<CategoricalDistribution>(&d)) {
    const double n = static_cast<double>(c->choices.size());
    return std::min(std::floor(u * n), n - 1);
  }
  return snap(d, from_unit(d, u));
}

std::string space_fingerprint(const SearchSpace& space) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
  auto mix = [&h](const std::string& s) {
    for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    h = (h ^ 0xffu) * 0x100000001b3ull;  // a separator no name or JSON text contains
  };
  for (const auto& [param, d] : space) {
    mix(param);
    mix(to_json(d).dump());
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
  return text;
}

}  // namespace nabla::hpo
