// Rademacher draws from nabla's Philox generator under a per-stream key, the estimate z * Bz,
// and spatial averaging.
#include "optim/hutchinson.h"

#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/views.h"
#include "core/backend.h"
#include "core/creation.h"

namespace nabla::optim {

namespace {

// FNV-1a: a stable 64-bit hash, so a stream's key is the same in every build.
uint64_t fnv1a(std::string_view text) {
  uint64_t hash = 14695981039346656037ULL;
  for (char ch : text) {
    hash ^= static_cast<uint8_t>(ch);
    hash *= 1099511628211ULL;
  }
  return hash;
}

}  // namespace

Tensor rademacher(const Tensor& like, uint64_t seed, std::string_view stream, uint64_t draw) {
  NABLA_CHECK(is_floating(like.dtype()), DTypeError, "rademacher: needs a floating dtype, got ",
              like.dtype());
  Tensor bits = empty(like.shape(), {.dtype = like.dtype(), .device = like.device()});
  // Philox counters (offset + i) of draw k never overlap those of draw k + 1.
  const auto count = static_cast<uint64_t>(like.numel());
  backend(like.device())
      .random(bits, RandomKind::bernoulli, 0.5, 0, seed ^ fnv1a(stream), draw * count);
  return bits * 2.0 - 1.0;
}

ParamVector hutchinson_diagonal(const std::function<ParamVector(const ParamVector&)>& product,
                                const ParamVector& z) {
  ParamVector bz = product(z);
  NABLA_CHECK(bz.size() == z.size(), ShapeError, "hutchinson_diagonal: the product gave ",
              bz.size(), " tensors for ", z.size());
  ParamVector estimate;
  for (size_t i = 0; i < z.size(); ++i) estimate.push_back(z[i] * bz[i]);
  return estimate;
}

Tensor spatial_average(const Tensor& diagonal) {
  if (diagonal.dim() != 4) return diagonal;
  return contiguous(expand(mean(diagonal, {2, 3}, /*keepdim=*/true), diagonal.shape()));
}

}  // namespace nabla::optim
