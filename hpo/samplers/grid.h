// Grid search: every point of a fixed grid once, in a seeded random order, across threads and
// processes sharing the study; the study stops once every point is taken.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "hpo/sampler.h"

namespace nabla::hpo {

// Note [grid claims]: a trial claims its grid point the first time it asks for a grid parameter,
// by writing the point's index to its system attribute "grid_id" through the storage. It takes
// the (number mod size)-th index of the seeded order unless another trial of the study, in any
// state, running ones included, holds it, and otherwise the first free index in that order: the
// trials of one process get the same points whatever the thread count, and failed trials keep
// theirs (a point is tried once). Within a process a mutex makes the claim atomic; across
// processes it is optimistic: write, read back, and move on when another trial holds the same
// index, which leaves no two trials on one index as long as the storage's writes are seen in one
// order (after a few collisions in a row the last choice is kept).
class GridSampler final : public Sampler {
 public:
  // A ValueError for an empty grid, a parameter without values or with a value listed twice, or
  // more than a million points.
  explicit GridSampler(std::map<std::string, std::vector<ParamValue>> grid,
                       std::optional<uint64_t> seed = std::nullopt);

  std::string name() const override { return "grid"; }
  // The trial's grid value of `param`. A ValueError when the grid has no such parameter, when the
  // value is outside `d`, or when every point is taken.
  double sample_independent(const SamplerContext& ctx, const std::string& param,
                            const Distribution& d) override;
  // Every point claimed, counting each running trial without a claim yet as one to come.
  bool exhausted(std::span<const TrialPtr> trials) override;

  int64_t size() const { return static_cast<int64_t>(order_.size()); }
  // The point at a grid index (mixed radix over the parameters in name order).
  std::map<std::string, ParamValue> point(int64_t grid_index) const;

 private:
  std::optional<int64_t> claim(const SamplerContext& ctx);
  const ParamValue& value_of(int64_t grid_index, const std::string& param) const;

  std::map<std::string, std::vector<ParamValue>> grid_;
  std::map<std::string, int64_t> strides_;
  std::vector<int64_t> order_;  // the seeded permutation of the grid indices
  std::mutex mutex_;
};

}  // namespace nabla::hpo
