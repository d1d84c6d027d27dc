// Embedding: a lookup table from integer ids to learned vectors.
#pragma once

#include <optional>

#include "nn/module.h"

namespace nabla::nn {

class Embedding : public Module {
 public:
  // weight [num_embeddings, dim] ~ N(0, 1), as PyTorch; the padding row (if any) starts at zero
  // and receives no gradient.
  Embedding(int64_t num_embeddings, int64_t embedding_dim,
            std::optional<int64_t> padding_idx = std::nullopt);
  // ids: int64 [*] -> [*, dim]
  Tensor forward(const Tensor& ids) override;
  const Tensor& weight() const { return weight_; }

 protected:
  std::string extra_repr() const override;

 private:
  int64_t num_embeddings_, embedding_dim_;
  std::optional<int64_t> padding_idx_;
  Tensor weight_;
};

}  // namespace nabla::nn
