// Quasi-random search: trial k takes point k of a scrambled Sobol sequence over the study's
// parameters, so that the trials so far cover the space more evenly than independent draws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hpo/sampler.h"

namespace nabla::hpo {

// Dimensions with direction numbers (Note [sobol direction numbers] in sobol.cpp); the sampler
// draws parameters beyond them uniformly at random.
inline constexpr int64_t kSobolDimensions = 32;

// The first `count` primitive polynomials over GF(2), by degree and then by their inner
// coefficients, as (degree s, a): bit s - 1 - i of a is the coefficient of x^(s - i), i = 1..s-1
// (Joe & Kuo's encoding).
std::vector<std::pair<int, uint32_t>> primitive_polynomials(int64_t count);

// Coordinate `dim` of point `index` of the unscrambled sequence, as a 32-bit binary fraction.
// A ValueError for dim outside [0, kSobolDimensions).
uint32_t sobol_bits(uint32_t index, int64_t dim);
// A nested uniform (Owen) scramble of a 32-bit fraction by hashing (Burley, "Practical Hash-based
// Owen Scrambling", JCGT 2020, after Laine & Karras 2011), then a digital shift (an XOR with
// random bits): both keyed by `seed`, one seed per dimension.
uint32_t scramble_bits(uint32_t bits, uint64_t seed);
// The two together, as a number in [0, 1); without a seed, the unscrambled point.
double sobol_unit(uint32_t index, int64_t dim, std::optional<uint64_t> seed);

struct SobolOptions {
  std::optional<uint64_t> seed{};
  // false: the plain sequence (trial 0 at the low corner), as published.
  bool scramble = true;
};

// Note [sobol dimensions]: point index = trial number, so every trial's point is fixed by its
// number and the seed, whatever the threads or processes. The parameters of the intersection
// space take dimensions 0, 1, ... in name order; a parameter outside it (the first trials, a
// conditional one) takes the next dimension after the space's in the order the trial asks for
// them. Each parameter's scramble is keyed by its name, not its dimension: point 0 of a scrambled
// sequence does not depend on its dimension, so trial 0, which sees no space yet, lies on the same
// sequence as the trials after it.
class SobolSampler final : public Sampler {
 public:
  explicit SobolSampler(SobolOptions options = {});

  std::string name() const override { return "sobol"; }
  SearchSpace infer_relative_search_space(const SamplerContext& ctx) override;
  std::map<std::string, double> sample_relative(const SamplerContext& ctx,
                                                const SearchSpace& space) override;
  double sample_independent(const SamplerContext& ctx, const std::string& param,
                            const Distribution& d) override;

 private:
  double sample(const SamplerContext& ctx, int64_t dim, const std::string& param,
                const Distribution& d) const;

  SobolOptions options_;
};

}  // namespace nabla::hpo
