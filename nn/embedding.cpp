// Embedding: index_select on the table; padding ids read the table but pass no gradient.
#include "nn/embedding.h"

#include <sstream>

#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/indexing.h"
#include "autograd/ops/inplace.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/views.h"
#include "core/creation.h"
#include "core/error.h"
#include "nn/init.h"

namespace nabla::nn {

Embedding::Embedding(int64_t num_embeddings, int64_t embedding_dim,
                     std::optional<int64_t> padding_idx)
    : Module("Embedding"), num_embeddings_(num_embeddings), embedding_dim_(embedding_dim) {
  NABLA_CHECK(num_embeddings > 0 && embedding_dim > 0, ValueError,
              "Embedding: sizes must be positive, got ", num_embeddings, " x ", embedding_dim);
  if (padding_idx) {
    int64_t index = *padding_idx < 0 ? *padding_idx + num_embeddings : *padding_idx;
    NABLA_CHECK(index >= 0 && index < num_embeddings, IndexError, "Embedding: padding_idx ",
                *padding_idx, " is out of range for ", num_embeddings, " embeddings");
    padding_idx_ = index;
  }
  weight_ = register_parameter("weight", empty({num_embeddings, embedding_dim}));
  init::normal_(weight_);
  if (padding_idx_) {
    NoGradGuard no_grad;
    zero_(select(weight_, 0, *padding_idx_));
  }
}

Tensor Embedding::forward(const Tensor& ids) {
  NABLA_CHECK(ids.dtype() == kInt64 || ids.dtype() == kInt32, DTypeError,
              "Embedding: ids must be int64 or int32, got ", ids.dtype());
  Tensor flat = reshape(nabla::to(ids, kInt64), {-1});
  Tensor rows = index_select(weight_, 0, flat);  // [n, dim]
  if (padding_idx_) {
    // Same values, but the padding rows come from a detached copy: no gradient reaches them.
    Tensor is_padding = unsqueeze(eq(flat, double(*padding_idx_)), 1);
    rows = where(is_padding, detach(rows), rows);
  }
  Shape shape = ids.shape();
  shape.push_back(embedding_dim_);
  return reshape(rows, shape);
}

std::string Embedding::extra_repr() const {
  std::ostringstream os;
  os << num_embeddings_ << ", " << embedding_dim_;
  if (padding_idx_) os << ", padding_idx=" << *padding_idx_;
  return os.str();
}

}  // namespace nabla::nn
