// The pruner interface: after a trial reports an intermediate value, should it stop?
#pragma once

#include <span>
#include <stdexcept>
#include <string>

#include "hpo/frozen_trial.h"

namespace nabla::hpo {

// Thrown by an objective (usually right after `should_prune()` said yes): the study records the
// trial as pruned, with its last reported value, and goes on.
class TrialPruned : public std::runtime_error {
 public:
  TrialPruned() : std::runtime_error("trial pruned") {}
  using std::runtime_error::runtime_error;
};

struct PrunerContext {
  std::span<const TrialPtr> history;  // Note [visible history] in sampler.h
  const FrozenTrial& trial;           // the trial asking, with its reports so far
  std::span<const Direction> directions;
};

class Pruner {
 public:
  virtual ~Pruner() = default;
  virtual std::string name() const = 0;
  virtual bool prune(const PrunerContext& ctx) = 0;
};

// Never prunes: the default.
class NopPruner final : public Pruner {
 public:
  std::string name() const override { return "none"; }
  bool prune(const PrunerContext&) override { return false; }
};

}  // namespace nabla::hpo
