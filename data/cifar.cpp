// CIFAR readers: every file's size must be a whole number of records before a byte is read, and
// every label byte is checked against its class count.
#include "data/cifar.h"

#include <cstring>

#include "core/creation.h"
#include "data/io.h"

namespace nabla::data {

namespace {

struct LabelByte {
  const char* what;  // "label", "coarse label", ...
  int64_t classes;
};

struct RecordFormat {
  const char* op;
  const char* dataset;
  int64_t record_bytes;
  std::vector<LabelByte> label_bytes;  // at the start of each record, in order
  size_t label_used;                   // which of them becomes the example's label
};

RecordFormat cifar10_format(const char* op) {
  return {op, "CIFAR-10", kCifar10RecordBytes, {{"label", 10}}, 0};
}

RecordFormat cifar100_format(const char* op, Cifar100Label label) {
  return {op,
          "CIFAR-100",
          kCifar100RecordBytes,
          {{"coarse label", 20}, {"fine label", 100}},
          label == Cifar100Label::coarse ? size_t{0} : size_t{1}};
}

int64_t count_records(uint64_t size, const std::string& name, const RecordFormat& f) {
  const uint64_t record = static_cast<uint64_t>(f.record_bytes);
  NABLA_CHECK(size > 0, IOError, f.op, ": '", name, "' is empty; a ", f.dataset,
              " file holds records of ", record, " bytes");
  NABLA_CHECK(size % record == 0, IOError, f.op, ": '", name, "' is ", size,
              " bytes, not a whole number of ", record, "-byte ", f.dataset, " records (",
              size / record, " records and ", size % record,
              " bytes left over): truncated, or not a ", f.dataset, " binary file");
  return static_cast<int64_t>(size / record);
}

// Splits `count` records into pixels and labels at the given rows of the outputs.
void decode_records(const uint8_t* bytes, int64_t count, const std::string& name,
                    const RecordFormat& f, uint8_t* images, int64_t* labels) {
  const size_t label_count = f.label_bytes.size();
  for (int64_t i = 0; i < count; ++i) {
    const uint8_t* record = bytes + i * f.record_bytes;
    for (size_t k = 0; k < label_count; ++k)
      NABLA_CHECK(record[k] < f.label_bytes[k].classes, IOError, f.op, ": '", name, "' record ", i,
                  " has ", f.label_bytes[k].what, " ", int{record[k]}, "; ", f.dataset, " ",
                  f.label_bytes[k].what, "s are 0..", f.label_bytes[k].classes - 1);
    labels[i] = record[f.label_used];
    std::memcpy(images + i * kCifarImageBytes, record + label_count, kCifarImageBytes);
  }
}

LabeledImages allocate(int64_t count) {
  return {empty({count, 3, 32, 32}, {.dtype = kUInt8}), empty({count}, {.dtype = kInt64}), {}};
}

LabeledImages parse(std::span<const uint8_t> bytes, const std::string& name,
                    const RecordFormat& f) {
  const int64_t count = count_records(bytes.size(), name, f);
  LabeledImages out = allocate(count);
  decode_records(bytes.data(), count, name, f, out.images.data<uint8_t>(),
                 out.labels.data<int64_t>());
  return out;
}

// Checks every file's size first, then reads them one after another into one tensor.
LabeledImages read_files(const std::vector<std::filesystem::path>& files, const RecordFormat& f) {
  std::vector<int64_t> counts;
  int64_t total = 0;
  for (const std::filesystem::path& file : files) {
    counts.push_back(count_records(file_size(file, f.op), file.string(), f));
    total += counts.back();
  }
  LabeledImages out = allocate(total);
  std::vector<uint8_t> buffer;
  int64_t row = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    buffer.resize(static_cast<size_t>(counts[i] * f.record_bytes));
    read_file_into(files[i], buffer.data(), buffer.size(), f.op);
    decode_records(buffer.data(), counts[i], files[i].string(), f,
                   out.images.data<uint8_t>() + row * kCifarImageBytes,
                   out.labels.data<int64_t>() + row);
    row += counts[i];
  }
  return out;
}

// Class names from `file` when it exists (one per line), else `fallback`.
std::vector<std::string> class_names(const std::filesystem::path& file, size_t expected,
                                     std::vector<std::string> fallback, const char* op) {
  if (!std::filesystem::exists(file)) return fallback;
  std::vector<std::string> names = read_lines(file, op);
  NABLA_CHECK(names.size() == expected, IOError, op, ": '", file.string(), "' lists ", names.size(),
              " class names, expected ", expected);
  return names;
}

std::vector<std::string> numbered(int64_t count) {
  std::vector<std::string> names;
  for (int64_t i = 0; i < count; ++i) names.push_back(std::to_string(i));
  return names;
}

}  // namespace

const std::vector<std::string>& cifar10_classes() {
  static const std::vector<std::string> names = {
      "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
  return names;
}

LabeledImages parse_cifar10(std::span<const uint8_t> bytes, const std::string& name) {
  LabeledImages out = parse(bytes, name, cifar10_format("parse_cifar10"));
  out.classes = cifar10_classes();
  return out;
}

LabeledImages read_cifar10_file(const std::filesystem::path& file) {
  LabeledImages out = read_files({file}, cifar10_format("read_cifar10_file"));
  out.classes = cifar10_classes();
  return out;
}

LabeledImages read_cifar10(const std::filesystem::path& dir, Split split) {
  std::vector<std::filesystem::path> files;
  if (split == Split::train) {
    for (int i = 1; i <= 5; ++i)
      files.push_back(dir / ("data_batch_" + std::to_string(i) + ".bin"));
  } else {
    files.push_back(dir / "test_batch.bin");
  }
  LabeledImages out = read_files(files, cifar10_format("read_cifar10"));
  out.classes = class_names(dir / "batches.meta.txt", 10, cifar10_classes(), "read_cifar10");
  return out;
}

LabeledImages parse_cifar100(std::span<const uint8_t> bytes, const std::string& name,
                             Cifar100Label label) {
  LabeledImages out = parse(bytes, name, cifar100_format("parse_cifar100", label));
  out.classes = numbered(label == Cifar100Label::fine ? 100 : 20);
  return out;
}

LabeledImages read_cifar100_file(const std::filesystem::path& file, Cifar100Label label) {
  LabeledImages out = read_files({file}, cifar100_format("read_cifar100_file", label));
  out.classes = numbered(label == Cifar100Label::fine ? 100 : 20);
  return out;
}

LabeledImages read_cifar100(const std::filesystem::path& dir, Split split, Cifar100Label label) {
  const std::filesystem::path file = dir / (split == Split::train ? "train.bin" : "test.bin");
  LabeledImages out = read_files({file}, cifar100_format("read_cifar100", label));
  const bool fine = label == Cifar100Label::fine;
  out.classes = class_names(dir / (fine ? "fine_label_names.txt" : "coarse_label_names.txt"),
                            fine ? 100 : 20, numbered(fine ? 100 : 20), "read_cifar100");
  return out;
}

TransformPtr cifar10_train_transform() {
  return compose({std::make_shared<RandomCrop>(32, 4, Padding::reflect),
                  std::make_shared<RandomHorizontalFlip>(), std::make_shared<ToFloat>(),
                  std::make_shared<Normalize>(kCifar10Mean, kCifar10Std)});
}

TransformPtr cifar10_test_transform() {
  return compose(
      {std::make_shared<ToFloat>(), std::make_shared<Normalize>(kCifar10Mean, kCifar10Std)});
}

}  // namespace nabla::data
