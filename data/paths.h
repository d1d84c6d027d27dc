// Finding datasets on disk: a program's --data DIR, then $NABLA_DATA, then ./data, then
// ../shared/data; errors list every place looked at and say how to get the data.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace nabla::data {

// One folder searched for datasets, and the rule that named it ("--data", "$NABLA_DATA", ...).
struct DataRoot {
  std::filesystem::path path;
  std::string origin;
};

// The folders searched, in order: `data_dir` (a program's --data flag; empty when not given),
// $NABLA_DATA when set, ./data and ../shared/data (both relative to the working directory).
std::vector<DataRoot> data_roots(const std::string& data_dir = "");

// A dataset's folder, and whether it is a stand-in subset rather than the official files.
struct DatasetLocation {
  std::filesystem::path dir;
  bool subset = false;
};

// The first root's cifar-10-batches-bin/ (the official archive's folder) holding
// data_batch_1..5.bin and test_batch.bin; failing that, the first cifar-10-subset/ holding them.
// IOError listing every place looked at, and how to get the data, when there is neither.
DatasetLocation find_cifar10(const std::string& data_dir = "");

struct Cifar10 {
  LabeledImages train;
  LabeledImages test;
  std::filesystem::path dir;
  // Only a subset was found: the cifar-10-subset/ fallback, or fewer than the official 50,000
  // training and 10,000 test records.
  bool subset = false;
  // One line for a program's first lines: the folder, the record counts, and whether this is only
  // a subset.
  std::string summary() const;
};

// find_cifar10, then both splits.
Cifar10 load_cifar10(const std::string& data_dir = "");

// The first of <root>/fashion-mnist/ for each root, then /usr/share/datasets/fashion-mnist/
// (Debian's dataset-fashion-mnist package), that holds the four IDX files, plain or .gz.
std::filesystem::path find_fashion_mnist(const std::string& data_dir = "");

struct FashionMnist {
  LabeledImages train;
  LabeledImages test;
  std::filesystem::path dir;
  std::string summary() const;
};

FashionMnist load_fashion_mnist(const std::string& data_dir = "");

}  // namespace nabla::data
