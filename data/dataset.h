// Datasets: the Dataset interface, tensors as a dataset, subsets and seeded random splits, and
// the in-memory image sets the readers return.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace nabla::data {

// One example: an input (an image [C, H, W], a feature vector, ...) and its target (a 0-d int64
// class index for classification).
struct Example {
  Tensor input;
  Tensor target;
};

// Examples stacked along a new first dim: inputs [B, ...], targets [B, ...].
struct Batch {
  Tensor inputs;
  Tensor targets;
  int64_t size() const { return inputs.defined() ? inputs.size(0) : 0; }
};

// A random-access collection of examples. get() and get_batch() may be called from several
// threads at once (a loader's workers share one dataset), so implementations keep no mutable
// state or guard it.
class Dataset {
 public:
  virtual ~Dataset() = default;

  virtual int64_t size() const = 0;
  virtual Example get(int64_t index) const = 0;
  // The examples at `indices`, stacked. The default stacks get(); datasets held in memory
  // override it with one gather.
  virtual Batch get_batch(const std::vector<int64_t>& indices) const;

 protected:
  // IndexError naming `op` unless 0 <= index < size().
  void check_index(int64_t index, const char* op) const;
};

// Copies same-shaped, same-dtype CPU tensors into one [N, ...] tensor; `op` names the caller.
Tensor stack_examples(const std::vector<Tensor>& tensors, const char* op);

// inputs [N, ...] and targets [N, ...] as a dataset, like torch.utils.data.TensorDataset.
class TensorDataset : public Dataset {
 public:
  // Both on the CPU with the same first size; kept contiguous (copied only if they are not).
  TensorDataset(const Tensor& inputs, const Tensor& targets);

  int64_t size() const override { return inputs_.size(0); }
  // Views of row `index`: no copy.
  Example get(int64_t index) const override;
  // One row copy per index.
  Batch get_batch(const std::vector<int64_t>& indices) const override;

  const Tensor& inputs() const { return inputs_; }
  const Tensor& targets() const { return targets_; }

 private:
  Tensor inputs_;
  Tensor targets_;
};

// The examples of `dataset` at `indices`, in that order.
class Subset : public Dataset {
 public:
  Subset(std::shared_ptr<const Dataset> dataset, std::vector<int64_t> indices);

  int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
  Example get(int64_t index) const override;
  Batch get_batch(const std::vector<int64_t>& indices) const override;

  const std::vector<int64_t>& indices() const { return indices_; }
  const std::shared_ptr<const Dataset>& dataset() const { return dataset_; }

 private:
  std::shared_ptr<const Dataset> dataset_;
  std::vector<int64_t> indices_;
};

// Splits a random permutation of `dataset` into consecutive subsets of the given sizes, which
// must add up to its size; the same seed gives the same split.
std::vector<std::shared_ptr<Subset>> random_split(std::shared_ptr<const Dataset> dataset,
                                                  const std::vector<int64_t>& sizes, uint64_t seed);
// The same with fractions that add up to 1: each subset gets floor(fraction * N) examples and
// the remainder goes one by one to the first subsets, as in PyTorch.
std::vector<std::shared_ptr<Subset>> random_split_fractions(std::shared_ptr<const Dataset> dataset,
                                                            const std::vector<double>& fractions,
                                                            uint64_t seed);

enum class Split { train, test };
const char* name(Split split);

// What the readers return: images uint8 [N, C, H, W], labels int64 [N], class names by label.
struct LabeledImages {
  Tensor images;
  Tensor labels;
  std::vector<std::string> classes;

  int64_t size() const { return images.defined() ? images.size(0) : 0; }
  // Examples per class, indexed by label.
  std::vector<int64_t> class_counts() const;
  // A dataset over the same memory.
  std::shared_ptr<TensorDataset> dataset() const;
};

}  // namespace nabla::data
