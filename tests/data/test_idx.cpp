// IDX and Fashion-MNIST: every element type, plain and gzip; malformed headers, sizes and gzip
// streams; the real Fashion-MNIST files.
#include <doctest/doctest.h>
#include <zlib.h>

#include <cstring>

#include "core/creation.h"
#include "data/idx.h"
#include "data/paths.h"
#include "data_testing.h"

using namespace nabla;
using namespace nabla::data;

namespace {

std::vector<uint8_t> idx_header(uint8_t type, const std::vector<uint32_t>& dims) {
  std::vector<uint8_t> out = {0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims)
    for (int shift : {24, 16, 8, 0}) out.push_back(static_cast<uint8_t>(d >> shift));
  return out;
}

std::vector<uint8_t> concat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<uint8_t> gzip(const std::vector<uint8_t>& bytes) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::vector<uint8_t> out(deflateBound(&z, bytes.size()) + 32);
  z.next_in = const_cast<Bytef*>(bytes.data());
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// The first `size` bytes of a gzip file, decompressed.
std::vector<uint8_t> gunzip_prefix(const std::filesystem::path& file, size_t size) {
  gzFile f = gzopen(file.c_str(), "rb");
  REQUIRE(f != nullptr);
  std::vector<uint8_t> out(size);
  REQUIRE(gzread(f, out.data(), static_cast<unsigned>(size)) == static_cast<int>(size));
  gzclose(f);
  return out;
}

}  // namespace

TEST_CASE("IDX: every element type, big-endian, plain and gzip") {
  std::vector<uint8_t> u8 = concat(idx_header(0x08, {2, 3}), {1, 2, 3, 4, 5, 255});
  for (const std::vector<uint8_t>& bytes : {u8, gzip(u8)}) {
    Tensor t = parse_idx(bytes, "u8");
    CHECK(t.dtype() == kUInt8);
    CHECK(t.shape() == Shape{2, 3});
    CHECK(t.to_vector<int64_t>() == std::vector<int64_t>{1, 2, 3, 4, 5, 255});
  }
  Tensor i8 = parse_idx(concat(idx_header(0x09, {2}), {0xff, 0x05}), "i8");
  CHECK(i8.dtype() == kInt8);
  CHECK(i8.to_vector<int64_t>() == std::vector<int64_t>{-1, 5});
  Tensor i16 = parse_idx(concat(idx_header(0x0B, {2}), {0xff, 0xfe, 0x01, 0x00}), "i16");
  CHECK(i16.dtype() == kInt32);
  CHECK(i16.to_vector<int64_t>() == std::vector<int64_t>{-2, 256});
  Tensor i32 = parse_idx(concat(idx_header(0x0C, {1}), {0x00, 0x01, 0x00, 0x02}), "i32");
  CHECK(i32.to_vector<int64_t>() == std::vector<int64_t>{65538});
  // 1.5f is 0x3FC00000; -2.0 is 0xC000000000000000.
  Tensor f32 = parse_idx(concat(idx_header(0x0D, {1}), {0x3f, 0xc0, 0, 0}), "f32");
  CHECK(f32.dtype() == kFloat32);
  CHECK(f32.item() == 1.5);
  Tensor f64 = parse_idx(concat(idx_header(0x0E, {1, 1}), {0xc0, 0, 0, 0, 0, 0, 0, 0}), "f64");
  CHECK(f64.dtype() == kFloat64);
  CHECK(f64.shape() == Shape{1, 1});
  CHECK(f64.item() == -2.0);
}

TEST_CASE("malformed IDX: each problem is an IOError that names it") {
  auto fails = [](const std::vector<uint8_t>& bytes, const char* expected) {
    CAPTURE(expected);
    CHECK_THROWS_WITH_AS(parse_idx(bytes, "f.idx"), doctest::Contains(expected), IOError);
  };
  fails({1, 0, 8, 1, 0, 0, 0, 1, 7}, "'f.idx' has a bad magic number");
  fails({0, 0, 7, 1, 0, 0, 0, 1, 7}, "type code 0x7");
  fails({0, 0, 8, 0}, "has 0 dims");
  fails({0, 0}, "ends inside its magic number");
  fails({0, 0, 8, 2, 0, 0, 0, 1, 0}, "ends inside its dims (5 of 8 bytes)");
  fails(concat(idx_header(0x08, {3}), {1, 2}),
        "has dims [3] of uint8, which need 3 bytes of data, but 2 follow the header");
  fails(concat(idx_header(0x0C, {2}), {0, 0, 0, 1}),
        "has dims [2] of int32, which need 8 bytes of data, but 4 follow");
  fails(concat(idx_header(0x08, {1}), {1, 2}), "need 1 bytes of data, but 2 follow");
  fails(idx_header(0x08, {0xffffffffu, 0xffffffffu, 0xffffffffu}), "whose product overflows");
  fails(idx_header(0x0E, {0xffffffffu, 0xffffffffu}), "too many elements to address");
  fails(idx_header(0x08, {0, 0xffffffffu, 0xffffffffu, 0xffffffffu}), "whose product overflows");
  fails(idx_header(0x08, {0, 0xffffffffu, 0xffffffffu}), "too many elements to address");
}

TEST_CASE("malformed gzip IDX: corrupt, truncated, shorter or longer than its dims") {
  std::vector<uint8_t> data(5000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7919 % 251);
  std::vector<uint8_t> good = gzip(concat(idx_header(0x08, {5000}), data));
  CHECK(parse_idx(good, "g").numel() == 5000);

  std::vector<uint8_t> corrupt = good;
  for (size_t i = 12; i < 40; ++i) corrupt[i] ^= 0x5a;
  CHECK_THROWS_WITH_AS(parse_idx(corrupt, "c.gz"), doctest::Contains("'c.gz' is corrupt gzip"),
                       IOError);
  std::vector<uint8_t> truncated(good.begin(), good.begin() + good.size() / 2);
  CHECK_THROWS_WITH_AS(parse_idx(truncated, "t.gz"),
                       doctest::Contains("'t.gz' is a truncated gzip stream"), IOError);
  // Dims that promise a gigabyte: the reader stops where the stream does.
  CHECK_THROWS_WITH_AS(parse_idx(gzip(concat(idx_header(0x08, {1u << 30}), data)), "big.gz"),
                       doctest::Contains("which need 1073741824 bytes of data, but only 5000 "
                                         "follow the header after decompression"),
                       IOError);
  CHECK_THROWS_WITH_AS(parse_idx(gzip(concat(idx_header(0x08, {4999}), data)), "long.gz"),
                       doctest::Contains("but more follow the header after decompression"),
                       IOError);
  std::vector<uint8_t> bad_crc = good;
  bad_crc[bad_crc.size() - 6] ^= 1;
  CHECK_THROWS_WITH_AS(parse_idx(bad_crc, "crc.gz"), doctest::Contains("corrupt gzip"), IOError);
}

TEST_CASE("Fashion-MNIST files written here: plain and gz, checked against each other") {
  testing::TempDir tmp;
  std::vector<uint8_t> pixels(3 * 28 * 28);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i % 256);
  testing::write_bytes(tmp / "t10k-images-idx3-ubyte",
                       concat(idx_header(0x08, {3, 28, 28}), pixels));
  testing::write_bytes(tmp / "t10k-labels-idx1-ubyte.gz",
                       gzip(concat(idx_header(0x08, {3}), {4, 0, 9})));
  LabeledImages test = read_fashion_mnist(tmp.path(), Split::test);
  CHECK(test.images.shape() == Shape{3, 1, 28, 28});
  CHECK(test.labels.to_vector<int64_t>() == std::vector<int64_t>{4, 0, 9});
  CHECK(test.images.data<uint8_t>()[28 * 28 + 5] == (28 * 28 + 5) % 256);
  CHECK(test.classes[9] == "Ankle boot");
  testing::write_bytes(tmp / "t10k-labels-idx1-ubyte", concat(idx_header(0x08, {3}), {4, 10, 9}));
  CHECK_THROWS_WITH_AS(read_fashion_mnist(tmp.path(), Split::test),
                       doctest::Contains("label 1 is 10"), IOError);
  testing::write_bytes(tmp / "t10k-labels-idx1-ubyte", concat(idx_header(0x08, {2}), {4, 1}));
  CHECK_THROWS_WITH_AS(read_fashion_mnist(tmp.path(), Split::test),
                       doctest::Contains("holds 3 images but"), IOError);
  CHECK_THROWS_WITH_AS(read_fashion_mnist(tmp.path(), Split::train),
                       doctest::Contains("train-images-idx3-ubyte.gz' exists"), IOError);
}

TEST_CASE("the real Fashion-MNIST: 60,000 + 10,000 images, 6,000 and 1,000 per class") {
  FashionMnist fashion;
  try {
    fashion = load_fashion_mnist(testing::test_data_dir());
  } catch (const IOError& e) {
    MESSAGE("skipped: " << e.what());
    return;
  }
  MESSAGE(fashion.summary());
  CHECK(fashion.train.images.shape() == Shape{60000, 1, 28, 28});
  CHECK(fashion.test.images.shape() == Shape{10000, 1, 28, 28});
  CHECK(fashion.train.class_counts() == std::vector<int64_t>(10, 6000));
  CHECK(fashion.test.class_counts() == std::vector<int64_t>(10, 1000));
  // Image 0 and label 0 against the files' own bytes (header 16 and 8 bytes).
  std::filesystem::path dir = fashion.dir;
  std::filesystem::path images = dir / "train-images-idx3-ubyte.gz";
  std::filesystem::path labels = dir / "train-labels-idx1-ubyte.gz";
  if (!std::filesystem::exists(images)) return;
  std::vector<uint8_t> raw = gunzip_prefix(images, 16 + 2 * 784);
  CHECK(std::memcmp(fashion.train.images.data<uint8_t>(), raw.data() + 16, 2 * 784) == 0);
  std::vector<uint8_t> raw_labels = gunzip_prefix(labels, 8 + 3);
  CHECK(fashion.train.labels.to_vector<int64_t>()[0] == raw_labels[8]);
  CHECK(fashion.train.labels.to_vector<int64_t>()[2] == raw_labels[10]);
}
