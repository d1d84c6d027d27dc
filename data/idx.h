// IDX files (the format of MNIST and Fashion-MNIST), plain or gzip-compressed, and the
// Fashion-MNIST dataset built from them.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/dataset.h"

namespace nabla::data {

// Parses an IDX file: two zero bytes, a type code (08 uint8, 09 int8, 0B int16, 0C int32,
// 0D float32, 0E float64), the number of dims, each dim as a big-endian uint32, then the
// elements big-endian. gzip data (found by its magic number) is decompressed first, never beyond
// the size the dims give. The result has the dims as its shape and the stored type, except that
// int16 widens to int32. `name` names the source in IOError messages.
Tensor parse_idx(std::span<const uint8_t> bytes, const std::string& name);
Tensor read_idx_file(const std::filesystem::path& file);

// Fashion-MNIST's class names by label.
const std::vector<std::string>& fashion_mnist_classes();

// The files of a split, train-images-idx3-ubyte and train-labels-idx1-ubyte (or t10k-...),
// each plain or with .gz: images uint8 [N, 1, 28, 28], labels int64 [N] in 0..9.
LabeledImages read_fashion_mnist(const std::filesystem::path& dir, Split split);

}  // namespace nabla::data
