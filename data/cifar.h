// CIFAR-10 and CIFAR-100 in their binary formats (https://www.cs.toronto.edu/~kriz/cifar.html):
// records of label byte(s) then 3,072 pixel bytes, the R, G and B planes of a 32x32 image.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/transforms.h"

namespace nabla::data {

inline constexpr int64_t kCifarImageBytes = 3 * 32 * 32;
inline constexpr int64_t kCifar10RecordBytes = 1 + kCifarImageBytes;
inline constexpr int64_t kCifar100RecordBytes = 2 + kCifarImageBytes;
// Records per file in the official archives.
inline constexpr int64_t kCifarRecordsPerBatch = 10000;

// CIFAR-100 records carry a coarse label (20 superclasses) then a fine one (100 classes).
enum class Cifar100Label { fine, coarse };

// CIFAR-10's class names by label, as its batches.meta.txt lists them.
const std::vector<std::string>& cifar10_classes();

// Parses CIFAR-10 records: `bytes` must hold a whole, non-zero number of 3,073-byte records with
// labels 0..9. `name` names the source in IOError messages. Returns images uint8
// [N, 3, 32, 32] and labels int64 [N].
LabeledImages parse_cifar10(std::span<const uint8_t> bytes, const std::string& name);
LabeledImages read_cifar10_file(const std::filesystem::path& file);
// A cifar-10-batches-bin folder: data_batch_1..5.bin (train) or test_batch.bin (test), each
// holding up to the official 10,000 records; class names from batches.meta.txt when present.
// Every file's size is checked before any is read.
LabeledImages read_cifar10(const std::filesystem::path& dir, Split split);

// CIFAR-100 records of 3,074 bytes: coarse label < 20, fine label < 100.
LabeledImages parse_cifar100(std::span<const uint8_t> bytes, const std::string& name,
                             Cifar100Label label = Cifar100Label::fine);
LabeledImages read_cifar100_file(const std::filesystem::path& file,
                                 Cifar100Label label = Cifar100Label::fine);
// A cifar-100-binary folder: train.bin or test.bin; class names from fine_label_names.txt or
// coarse_label_names.txt when present.
LabeledImages read_cifar100(const std::filesystem::path& dir, Split split,
                            Cifar100Label label = Cifar100Label::fine);

// Per-channel mean and std of CIFAR-10's training images scaled to [0, 1].
inline const std::vector<float> kCifar10Mean = {0.4914f, 0.4822f, 0.4465f};
inline const std::vector<float> kCifar10Std = {0.2470f, 0.2435f, 0.2616f};

// The usual CIFAR-10 training augmentation: a 32x32 crop of the image padded by 4 (reflect),
// a horizontal flip with probability 1/2, to_float and normalize.
TransformPtr cifar10_train_transform();
// Evaluation: to_float and normalize only.
TransformPtr cifar10_test_transform();

}  // namespace nabla::data
