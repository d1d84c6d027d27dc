// Random search.
#include "hpo/samplers/random.h"

namespace nabla::hpo {

double RandomSampler::sample_independent(const SamplerContext& ctx, const std::string& param,
                                         const Distribution& d) {
  Rng r = rng(ctx, param);
  return sample_uniform(d, r);
}

}  // namespace nabla::hpo
