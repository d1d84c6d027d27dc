// CIFAR-10 and CIFAR-100 readers: the real subset against its README, generated files of the
// full dataset's size, malformed files, and the search for the dataset folder.
#include <doctest/doctest.h>

#include <map>

#include "core/creation.h"
#include "data/cifar.h"
#include "data/paths.h"
#include "data_testing.h"

using namespace nabla;
using namespace nabla::data;
using nabla::testing::TempDir;

namespace {

// Records with label (i * 7 + salt) % 10 and pixel j = (i * 13 + j * 5 + salt) % 256.
std::vector<uint8_t> cifar10_records(int64_t count, int salt) {
  std::vector<uint8_t> bytes(static_cast<size_t>(count * kCifar10RecordBytes));
  for (int64_t i = 0; i < count; ++i) {
    uint8_t* r = bytes.data() + i * kCifar10RecordBytes;
    r[0] = static_cast<uint8_t>((i * 7 + salt) % 10);
    for (int64_t j = 0; j < kCifarImageBytes; ++j)
      r[1 + j] = static_cast<uint8_t>((i * 13 + j * 5 + salt) % 256);
  }
  return bytes;
}

void write_cifar10_dir(const std::filesystem::path& dir, int64_t per_file) {
  for (int b = 1; b <= 5; ++b)
    testing::write_bytes(dir / ("data_batch_" + std::to_string(b) + ".bin"),
                         cifar10_records(per_file, b));
  testing::write_bytes(dir / "test_batch.bin", cifar10_records(per_file, 0));
}

uint8_t pixel(const LabeledImages& li, int64_t i, int64_t c, int64_t y, int64_t x) {
  return li.images.data<uint8_t>()[((i * 3 + c) * 32 + y) * 32 + x];
}

// The per-class counts of each file, from the subset's README.
const std::map<std::string, std::vector<int64_t>> kSubsetCounts = {
    {"data_batch_1.bin", {396, 366, 420, 384, 422, 393, 414, 385, 407, 413}},
    {"data_batch_2.bin", {105, 101, 83, 99, 110, 96, 98, 118, 118, 89}},
    {"data_batch_3.bin", {104, 108, 92, 120, 103, 92, 107, 94, 105, 92}},
    {"data_batch_4.bin", {121, 135, 144, 113, 135, 144, 112, 121, 134, 126}},
    {"data_batch_5.bin", {104, 97, 96, 91, 109, 96, 102, 105, 106, 111}},
    {"test_batch.bin", {105, 93, 100, 104, 92, 87, 114, 102, 110, 110}},
};

int64_t sum(const std::vector<int64_t>& v) {
  int64_t s = 0;
  for (int64_t x : v) s += x;
  return s;
}

}  // namespace

TEST_CASE("the CIFAR-10 subset: counts and label histograms match its README, pixels its bytes") {
  const std::string data_dir = testing::test_data_dir();
  std::filesystem::path dir;
  for (const DataRoot& root : data_roots(data_dir))
    if (std::filesystem::exists(root.path / "cifar-10-subset" / "test_batch.bin")) {
      dir = root.path / "cifar-10-subset";
      break;
    }
  if (dir.empty()) {
    MESSAGE("skipped: no cifar-10-subset/ in any data folder");
    return;
  }
  for (const auto& [file, counts] : kSubsetCounts) {
    CAPTURE(file);
    LabeledImages li = read_cifar10_file(dir / file);
    CHECK(li.size() == sum(counts));
    CHECK(li.class_counts() == counts);
  }
  LabeledImages train = read_cifar10(dir, Split::train);
  LabeledImages test = read_cifar10(dir, Split::test);
  CHECK(train.size() == 8336);
  CHECK(test.size() == 1017);
  CHECK(train.class_counts() ==
        std::vector<int64_t>{830, 807, 835, 807, 879, 821, 833, 823, 870, 831});
  CHECK(test.class_counts() == std::vector<int64_t>{105, 93, 100, 104, 92, 87, 114, 102, 110, 110});
  CHECK(train.classes == cifar10_classes());
  CHECK(train.images.shape() == Shape{8336, 3, 32, 32});
  // Record r of the whole training set: data_batch_1 holds 4000, so 4000 + 5 is its record 5.
  std::vector<uint8_t> first = testing::file_bytes(dir / "data_batch_1.bin");
  std::vector<uint8_t> second = testing::file_bytes(dir / "data_batch_2.bin");
  for (auto [record, c, y, x] :
       {std::array<int64_t, 4>{0, 0, 0, 0}, {0, 2, 31, 31}, {3999, 1, 17, 4}, {123, 2, 5, 30}}) {
    const uint8_t* r = first.data() + record * kCifar10RecordBytes;
    CHECK(train.labels.data<int64_t>()[record] == r[0]);
    CHECK(pixel(train, record, c, y, x) == r[1 + c * 1024 + y * 32 + x]);
  }
  const uint8_t* r5 = second.data() + 5 * kCifar10RecordBytes;
  CHECK(train.labels.data<int64_t>()[4005] == r5[0]);
  CHECK(pixel(train, 4005, 1, 9, 20) == r5[1 + 1024 + 9 * 32 + 20]);
}

TEST_CASE("the real CIFAR-10 through the search path: a subset is reported as one") {
  Cifar10 cifar;
  try {
    cifar = load_cifar10(testing::test_data_dir());
  } catch (const IOError& e) {
    MESSAGE("skipped: " << e.what());
    return;
  }
  MESSAGE(cifar.summary());
  if (cifar.subset) {
    CHECK(cifar.summary().find("SUBSET") != std::string::npos);
    CHECK(cifar.train.size() + cifar.test.size() < 60000);
  } else {
    CHECK(cifar.train.size() == 50000);
    CHECK(cifar.test.size() == 10000);
    CHECK(cifar.train.class_counts() == std::vector<int64_t>(10, 5000));
    CHECK(cifar.test.class_counts() == std::vector<int64_t>(10, 1000));
  }
}

TEST_CASE("generated files of the full size read through the full-dataset path") {
  TempDir tmp;
  write_cifar10_dir(tmp / "cifar-10-batches-bin", kCifarRecordsPerBatch);
  Cifar10 cifar = load_cifar10(tmp.path().string());
  CHECK_FALSE(cifar.subset);
  CHECK(cifar.dir == tmp / "cifar-10-batches-bin");
  CHECK(cifar.train.size() == 50000);
  CHECK(cifar.test.size() == 10000);
  CHECK(cifar.summary().find("50000 train + 10000 test") != std::string::npos);
  CHECK(cifar.summary().find("SUBSET") == std::string::npos);
  // (i * 7 + salt) % 10 over 10,000 records gives each label 1,000 times per file.
  CHECK(cifar.train.class_counts() == std::vector<int64_t>(10, 5000));
  CHECK(cifar.test.class_counts() == std::vector<int64_t>(10, 1000));
  // Record 3 of data_batch_4 is record 30003 of the training set.
  const int64_t i = 3, salt = 4, record = 3 * 10000 + i;
  CHECK(cifar.train.labels.data<int64_t>()[record] == (i * 7 + salt) % 10);
  for (int64_t j : {0, 1023, 1024, 2047, 3071}) {
    CHECK(pixel(cifar.train, record, j / 1024, j % 1024 / 32, j % 32) ==
          (i * 13 + j * 5 + salt) % 256);
  }
  CHECK(pixel(cifar.test, 9999, 2, 31, 31) == (9999 * 13 + 3071 * 5) % 256);
}

TEST_CASE("cifar-10-subset/ is the fallback, reported with its counts") {
  TempDir tmp;
  write_cifar10_dir(tmp / "cifar-10-subset", 3);
  testing::write_bytes(tmp / "cifar-10-subset" / "batches.meta.txt",
                       {'a',  '\n', 'b',  '\n', 'c',  '\n', 'd',  '\n', 'e',  '\n', 'f',
                        '\n', 'g',  '\n', 'h',  '\n', 'i',  '\n', 'j',  '\n', '\n'});
  DatasetLocation where = find_cifar10(tmp.path().string());
  CHECK(where.subset);
  Cifar10 cifar = load_cifar10(tmp.path().string());
  CHECK(cifar.subset);
  CHECK(cifar.train.size() == 15);
  CHECK(cifar.test.size() == 3);
  CHECK(cifar.train.classes[9] == "j");
  CHECK(cifar.summary().find("SUBSET: 15 train + 3 test") != std::string::npos);
  // The official folder wins once it is there, even with fewer records than the full set.
  write_cifar10_dir(tmp / "cifar-10-batches-bin", 2);
  Cifar10 official = load_cifar10(tmp.path().string());
  CHECK(official.dir == tmp / "cifar-10-batches-bin");
  CHECK(official.train.size() == 10);
  CHECK(official.subset);  // 10 records are not the full 50,000
}

TEST_CASE("a missing CIFAR-10 names every place looked at and how to get it") {
  TempDir tmp, empty_env;
  std::filesystem::create_directories(tmp / "flag" / "cifar-10-batches-bin");
  testing::WorkingDir cwd(tmp.path());
  testing::EnvVar env("NABLA_DATA", empty_env.path().string());
  try {
    find_cifar10((tmp / "flag").string());
    FAIL("find_cifar10 found a dataset in empty folders");
  } catch (const IOError& e) {
    const std::string message = e.what();
    CAPTURE(message);
    for (const char* part :
         {"--data", "$NABLA_DATA", "./data", "../shared/data", "lacks data_batch_1.bin",
          "no such folder", "make data", "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"})
      CHECK(message.find(part) != std::string::npos);
  }
}

TEST_CASE("malformed CIFAR-10 data: each problem is an IOError that names it") {
  std::vector<uint8_t> two = cifar10_records(2, 0);
  std::vector<uint8_t> truncated(two.begin(), two.end() - 10);
  CHECK_THROWS_WITH_AS(parse_cifar10(truncated, "t.bin"),
                       doctest::Contains("'t.bin' is 6136 bytes, not a whole number of 3073-byte "
                                         "CIFAR-10 records (1 records and 3063 bytes left over)"),
                       IOError);
  CHECK_THROWS_WITH_AS(parse_cifar10({}, "e.bin"), doctest::Contains("'e.bin' is empty"), IOError);
  std::vector<uint8_t> bad_label = two;
  bad_label[kCifar10RecordBytes] = 10;
  CHECK_THROWS_WITH_AS(parse_cifar10(bad_label, "l.bin"),
                       doctest::Contains("'l.bin' record 1 has label 10; CIFAR-10 labels are 0..9"),
                       IOError);
  LabeledImages ok = parse_cifar10(two, "ok.bin");
  CHECK(ok.size() == 2);
  CHECK(ok.labels.to_vector<int64_t>() == std::vector<int64_t>{0, 7});

  TempDir tmp;
  write_cifar10_dir(tmp / "c", 2);
  testing::write_bytes(tmp / "c" / "data_batch_3.bin", truncated);
  CHECK_THROWS_WITH_AS(read_cifar10(tmp / "c", Split::train),
                       doctest::Contains("data_batch_3.bin' is 6136 bytes"), IOError);
  std::filesystem::remove(tmp / "c" / "data_batch_3.bin");
  CHECK_THROWS_WITH_AS(read_cifar10(tmp / "c", Split::train),
                       doctest::Contains("data_batch_3.bin' does not exist"), IOError);
  testing::write_bytes(tmp / "c" / "batches.meta.txt", {'x', '\n'});
  CHECK_THROWS_WITH_AS(read_cifar10(tmp / "c", Split::test),
                       doctest::Contains("lists 1 class names, expected 10"), IOError);
}

TEST_CASE("CIFAR-100: fine labels by default, coarse on request, both checked") {
  std::vector<uint8_t> bytes(2 * kCifar100RecordBytes);
  bytes[0] = 19;
  bytes[1] = 99;
  bytes[2 + 7] = 200;
  bytes[kCifar100RecordBytes] = 3;
  bytes[kCifar100RecordBytes + 1] = 42;
  LabeledImages fine = parse_cifar100(bytes, "train.bin");
  CHECK(fine.labels.to_vector<int64_t>() == std::vector<int64_t>{99, 42});
  CHECK(fine.classes.size() == 100);
  CHECK(fine.images.data<uint8_t>()[7] == 200);
  LabeledImages coarse = parse_cifar100(bytes, "train.bin", Cifar100Label::coarse);
  CHECK(coarse.labels.to_vector<int64_t>() == std::vector<int64_t>{19, 3});
  CHECK(coarse.classes.size() == 20);
  bytes[kCifar100RecordBytes] = 20;
  CHECK_THROWS_WITH_AS(parse_cifar100(bytes, "b.bin"),
                       doctest::Contains("record 1 has coarse label 20"), IOError);
  bytes[kCifar100RecordBytes] = 0;
  bytes[1] = 100;
  CHECK_THROWS_WITH_AS(parse_cifar100(bytes, "b.bin", Cifar100Label::coarse),
                       doctest::Contains("record 0 has fine label 100"), IOError);
  CHECK_THROWS_WITH_AS(parse_cifar100(std::vector<uint8_t>(3073), "c10.bin"),
                       doctest::Contains("not a whole number of 3074-byte CIFAR-100 records"),
                       IOError);
}
