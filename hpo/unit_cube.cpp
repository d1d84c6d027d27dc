// The unit-interval encoding of float and int parameters, and its snapped inverse.
#include "hpo/unit_cube.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace nabla::hpo {

namespace {

// The encoded interval [lo, hi] of a numeric distribution, in log space when `log`.
struct Span {
  double lo, hi;
  bool log;
};

Span span_of(const Distribution& d) {
  if (const auto* f = std::get_if<FloatDistribution>(&d)) {
    if (f->log) return {std::log(f->low), std::log(f->high), true};
    const double pad = f->step ? *f->step / 2 : 0.0;
    return {f->low - pad, f->high + pad, false};
  }
  const auto& i = std::get<IntDistribution>(d);
  if (i.log)
    return {std::log(static_cast<double>(i.low) - 0.5), std::log(static_cast<double>(i.high) + 0.5),
            true};
  const double pad = static_cast<double>(i.step) / 2;
  return {static_cast<double>(i.low) - pad, static_cast<double>(i.high) + pad, false};
}

}  // namespace

double encode_unit(const Distribution& d, double internal) {
  NABLA_CHECK(!std::holds_alternative<CategoricalDistribution>(d), ValueError,
              "encode_unit: a categorical distribution ", to_json(d).dump(),
              " has no order to place on [0, 1]");
  const Span s = span_of(d);
  if (s.hi == s.lo) return 0.5;
  const double x = s.log ? std::log(internal) : internal;
  return std::clamp((x - s.lo) / (s.hi - s.lo), 0.0, 1.0);
}

double decode_unit(const Distribution& d, double u) {
  u = std::clamp(u, 0.0, 1.0);
  if (const auto* c = std::get_if<CategoricalDistribution>(&d)) {
    const double n = static_cast<double>(c->choices.size());
    return std::min(std::floor(u * n), n - 1);
  }
  const Span s = span_of(d);
  const double x = s.lo + u * (s.hi - s.lo);
  return snap(d, s.log ? std::exp(x) : x);
}

}  // namespace nabla::hpo
