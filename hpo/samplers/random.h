// Random search: every parameter drawn uniformly (log-uniformly on log scales), independently.
#pragma once

#include "hpo/sampler.h"

namespace nabla::hpo {

class RandomSampler final : public Sampler {
 public:
  using Sampler::Sampler;
  std::string name() const override { return "random"; }
  double sample_independent(const SamplerContext& ctx, const std::string& param,
                            const Distribution& d) override;
};

}  // namespace nabla::hpo
