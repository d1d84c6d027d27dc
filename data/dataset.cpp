// Datasets over tensors, subsets, random splits and stacking.
#include "data/dataset.h"

#include <cmath>
#include <cstring>
#include <numeric>

#include "core/creation.h"
#include "core/ops.h"
#include "data/random.h"

namespace nabla::data {

namespace {

Shape with_leading(int64_t n, const Shape& shape) {
  Shape out{n};
  out.insert(out.end(), shape.begin(), shape.end());
  return out;
}

// Copies row `row` of the contiguous [N, ...] tensor `source` into row `out_row` of `out`.
void copy_row(const Tensor& out, int64_t out_row, const Tensor& source, int64_t row) {
  const size_t bytes =
      static_cast<size_t>(source.numel() / source.size(0)) * itemsize(source.dtype());
  std::memcpy(static_cast<char*>(out.raw_data()) + out_row * bytes,
              static_cast<const char*>(source.raw_data()) + row * bytes, bytes);
}

Tensor gather_rows(const Tensor& source, const std::vector<int64_t>& indices, const char* op) {
  const int64_t n = source.size(0);
  Shape row_shape(source.shape().begin() + 1, source.shape().end());
  Tensor out = empty(with_leading(static_cast<int64_t>(indices.size()), row_shape),
                     {.dtype = source.dtype()});
  for (size_t i = 0; i < indices.size(); ++i) {
    NABLA_CHECK(indices[i] >= 0 && indices[i] < n, IndexError, op, ": index ", indices[i],
                " is out of range for a dataset of size ", n);
    copy_row(out, static_cast<int64_t>(i), source, indices[i]);
  }
  return out;
}

}  // namespace

void Dataset::check_index(int64_t index, const char* op) const {
  NABLA_CHECK(index >= 0 && index < size(), IndexError, op, ": index ", index,
              " is out of range for a dataset of size ", size());
}

Tensor stack_examples(const std::vector<Tensor>& tensors, const char* op) {
  NABLA_CHECK(!tensors.empty(), ValueError, op, ": nothing to stack");
  const Tensor& first = tensors.front();
  Tensor out = empty(with_leading(static_cast<int64_t>(tensors.size()), first.shape()),
                     {.dtype = first.dtype()});
  const size_t bytes = static_cast<size_t>(first.numel()) * itemsize(first.dtype());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    NABLA_CHECK(t.device().is_cpu(), DeviceError, op, ": example ", i, " is on ", t.device(),
                "; datasets hold CPU tensors");
    NABLA_CHECK(t.shape() == first.shape() && t.dtype() == first.dtype(), ShapeError, op,
                ": example ", i, " is ", t.shape(), " ", t.dtype(), " but example 0 is ",
                first.shape(), " ", first.dtype(), "; a batch needs examples of one shape");
    Tensor c = t.is_contiguous() ? t : core::contiguous(t);
    std::memcpy(static_cast<char*>(out.raw_data()) + i * bytes, c.raw_data(), bytes);
  }
  return out;
}

Batch Dataset::get_batch(const std::vector<int64_t>& indices) const {
  std::vector<Tensor> inputs, targets;
  inputs.reserve(indices.size());
  targets.reserve(indices.size());
  for (int64_t index : indices) {
    Example e = get(index);
    inputs.push_back(std::move(e.input));
    targets.push_back(std::move(e.target));
  }
  return {stack_examples(inputs, "Dataset::get_batch"),
          stack_examples(targets, "Dataset::get_batch")};
}

TensorDataset::TensorDataset(const Tensor& inputs, const Tensor& targets) {
  NABLA_CHECK(inputs.defined() && targets.defined(), ValueError,
              "TensorDataset: inputs and targets must be defined tensors");
  NABLA_CHECK(inputs.device().is_cpu() && targets.device().is_cpu(), DeviceError,
              "TensorDataset: inputs (", inputs.device(), ") and targets (", targets.device(),
              ") must be on the CPU");
  NABLA_CHECK(inputs.dim() >= 1 && targets.dim() >= 1 && inputs.size(0) == targets.size(0),
              ShapeError, "TensorDataset: inputs ", inputs.shape(), " and targets ",
              targets.shape(), " must have the same first size");
  inputs_ = inputs.is_contiguous() ? inputs : core::contiguous(inputs);
  targets_ = targets.is_contiguous() ? targets : core::contiguous(targets);
}

Example TensorDataset::get(int64_t index) const {
  check_index(index, "TensorDataset::get");
  return {core::select(inputs_, 0, index), core::select(targets_, 0, index)};
}

Batch TensorDataset::get_batch(const std::vector<int64_t>& indices) const {
  return {gather_rows(inputs_, indices, "TensorDataset::get_batch"),
          gather_rows(targets_, indices, "TensorDataset::get_batch")};
}

Subset::Subset(std::shared_ptr<const Dataset> dataset, std::vector<int64_t> indices)
    : dataset_(std::move(dataset)), indices_(std::move(indices)) {
  NABLA_CHECK(dataset_ != nullptr, ValueError, "Subset: the dataset is null");
  const int64_t n = dataset_->size();
  for (size_t i = 0; i < indices_.size(); ++i)
    NABLA_CHECK(indices_[i] >= 0 && indices_[i] < n, IndexError, "Subset: index ", indices_[i],
                " (position ", i, ") is out of range for a dataset of size ", n);
}

Example Subset::get(int64_t index) const {
  check_index(index, "Subset::get");
  return dataset_->get(indices_[index]);
}

Batch Subset::get_batch(const std::vector<int64_t>& indices) const {
  std::vector<int64_t> mapped(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) {
    check_index(indices[i], "Subset::get_batch");
    mapped[i] = indices_[indices[i]];
  }
  return dataset_->get_batch(mapped);
}

std::vector<std::shared_ptr<Subset>> random_split(std::shared_ptr<const Dataset> dataset,
                                                  const std::vector<int64_t>& sizes,
                                                  uint64_t seed) {
  NABLA_CHECK(dataset != nullptr, ValueError, "random_split: the dataset is null");
  int64_t total = 0;
  for (int64_t s : sizes) {
    NABLA_CHECK(s >= 0, ValueError, "random_split: sizes must be non-negative, got ", s);
    total += s;
  }
  NABLA_CHECK(total == dataset->size(), ValueError, "random_split: sizes add up to ", total,
              " but the dataset holds ", dataset->size(), " examples");
  std::vector<int64_t> order(static_cast<size_t>(total));
  std::iota(order.begin(), order.end(), int64_t{0});
  RandomStream random = RandomStream::for_shuffle(seed, 0);
  shuffle(order.data(), total, random);
  std::vector<std::shared_ptr<Subset>> parts;
  auto begin = order.begin();
  for (int64_t s : sizes) {
    parts.push_back(std::make_shared<Subset>(dataset, std::vector<int64_t>(begin, begin + s)));
    begin += s;
  }
  return parts;
}

std::vector<std::shared_ptr<Subset>> random_split_fractions(std::shared_ptr<const Dataset> dataset,
                                                            const std::vector<double>& fractions,
                                                            uint64_t seed) {
  NABLA_CHECK(dataset != nullptr, ValueError, "random_split_fractions: the dataset is null");
  NABLA_CHECK(!fractions.empty(), ValueError, "random_split_fractions: no fractions given");
  double sum = 0;
  for (double f : fractions) {
    NABLA_CHECK(f >= 0 && f <= 1, ValueError,
                "random_split_fractions: fractions must lie in [0, 1], got ", f);
    sum += f;
  }
  NABLA_CHECK(std::abs(sum - 1) < 1e-6, ValueError, "random_split_fractions: fractions add up to ",
              sum, ", expected 1");
  const int64_t n = dataset->size();
  std::vector<int64_t> sizes;
  int64_t assigned = 0;
  for (double f : fractions) {
    sizes.push_back(static_cast<int64_t>(std::floor(f * static_cast<double>(n))));
    assigned += sizes.back();
  }
  for (size_t i = 0; assigned < n; ++i, ++assigned) ++sizes[i % sizes.size()];
  return random_split(std::move(dataset), sizes, seed);
}

const char* name(Split split) { return split == Split::train ? "train" : "test"; }

std::vector<int64_t> LabeledImages::class_counts() const {
  std::vector<int64_t> counts(classes.size());
  const int64_t* label = labels.data<int64_t>();
  for (int64_t i = 0; i < labels.numel(); ++i) {
    NABLA_CHECK(label[i] >= 0 && label[i] < static_cast<int64_t>(counts.size()), ValueError,
                "LabeledImages::class_counts: label ", label[i], " of example ", i,
                " is not one of the ", counts.size(), " classes");
    ++counts[label[i]];
  }
  return counts;
}

std::shared_ptr<TensorDataset> LabeledImages::dataset() const {
  return std::make_shared<TensorDataset>(images, labels);
}

}  // namespace nabla::data
