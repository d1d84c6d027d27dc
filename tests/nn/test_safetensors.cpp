// The safetensors layer: byte layout against the spec, round trips, every rejection rule, mutated
// files, and atomic saves.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/resource.h>

#include <cstring>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/creation.h"
#include "core/generator.h"
#include "core/ops.h"
#include "nn/safetensors.h"
#include "scratch_dir.h"

using namespace nabla;
using namespace nabla::nn;
using nabla::testing::read_file;
using nabla::testing::ScratchDir;
using nabla::testing::write_file;

namespace {

// A file from its parts, as the spec lays it out: 8-byte little-endian header length, the JSON
// header, the data section.
std::vector<uint8_t> file_bytes(const std::string& header, const std::vector<uint8_t>& data = {}) {
  std::vector<uint8_t> bytes;
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<uint8_t>(n >> (8 * i)));
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

// A tensor's elements as raw bytes, row-major.
std::vector<uint8_t> raw_bytes(const Tensor& t) {
  Tensor c = core::contiguous(t);
  const auto* p = static_cast<const uint8_t*>(c.raw_data());
  return {p, p + c.numel() * static_cast<int64_t>(itemsize(c.dtype()))};
}

void check_bit_equal(const Tensor& got, const Tensor& expected) {
  CHECK(got.dtype() == expected.dtype());
  CHECK(got.shape() == expected.shape());
  CHECK(raw_bytes(got) == raw_bytes(expected));
}

std::vector<std::string> names(const NamedTensors& tensors) {
  std::vector<std::string> out;
  for (const auto& [name, t] : tensors) out.push_back(name);
  return out;
}

// One tensor entry's JSON text. (Streams, because GCC 12 warns falsely on some string sums.)
std::string entry(const std::string& dtype, const std::string& shape, uint64_t begin,
                  uint64_t end) {
  std::ostringstream os;
  os << "{\"dtype\":\"" << dtype << "\",\"shape\":" << shape << ",\"data_offsets\":[" << begin
     << "," << end << "]}";
  return os.str();
}

// The parse of `bytes` fails with an IOError whose message contains `problem`.
void check_rejects(const std::vector<uint8_t>& bytes, const std::string& problem) {
  CAPTURE(problem);
  CHECK_THROWS_WITH_AS(parse_safetensors(bytes, "bad.safetensors"),
                       doctest::Contains(problem.c_str()), IOError);
  CHECK_THROWS_WITH_AS(parse_safetensors(bytes, "bad.safetensors"),
                       doctest::Contains("bad.safetensors"), IOError);
}

std::vector<DType> all_dtypes() {
  return {kFloat32, kFloat64, kFloat16, kBFloat16, kInt64, kInt32, kUInt8, kInt8, kBool};
}

// A few tensors like a small model's state: what the mutation tests start from.
NamedTensors small_state() {
  manual_seed(3);
  return {{"conv.weight", randn({4, 3, 3, 3})},
          {"conv.bias", randn({4})},
          {"bn.running_mean", rand({4}, {.dtype = kFloat64})},
          {"bn.num_batches_tracked", scalar_tensor(12, {.dtype = kInt64})},
          {"mask", from_vector<uint8_t>({1, 0, 1}, {3}, {.dtype = kBool})}};
}

}  // namespace

TEST_CASE("safetensors: a file written by hand from the spec") {
  // "a": F32 [2] = {1.5, -2}; "b": I32 [2] = {7, -9}, listed in the header before "a".
  std::vector<uint8_t> data = {0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x00, 0xc0,
                               0x07, 0x00, 0x00, 0x00, 0xf7, 0xff, 0xff, 0xff};
  std::string header = "{\"__metadata__\":{\"format\":\"pt\"},\"b\":" + entry("I32", "[2]", 8, 16) +
                       ",\"a\":" + entry("F32", "[2]", 0, 8) + "}";
  SafetensorsFile file = parse_safetensors(file_bytes(header, data));
  REQUIRE(file.tensors.size() == 2);
  CHECK(names(file.tensors) == std::vector<std::string>{"a", "b"});  // in data order
  CHECK(file.tensors[0].second.to_vector<float>() == std::vector<float>{1.5f, -2.0f});
  CHECK(file.tensors[1].second.dtype() == kInt32);
  CHECK(file.tensors[1].second.to_vector<int32_t>() == std::vector<int32_t>{7, -9});
  CHECK(file.metadata == SafetensorsMetadata{{"format", "pt"}});

  // Headers need no padding, and JSON whitespace is allowed.
  SafetensorsFile spaced =
      parse_safetensors(file_bytes(" { \"x\" : " + entry("U8", "[ 3 ]", 0, 3) + " }\n", {1, 2, 3}));
  CHECK(spaced.tensors[0].second.to_vector<int>() == std::vector<int>{1, 2, 3});
  CHECK(spaced.metadata.empty());
}

TEST_CASE("safetensors: nabla writes exactly the expected bytes") {
  NamedTensors tensors = {
      {"w", from_vector<float>({1, 2, 3, 4}, {2, 2})},
      {"h", from_vector<float>({1}, {1}, {.dtype = kFloat16})},
      {"step", scalar_tensor(7, {.dtype = kInt64})},
      {"mask", from_vector<uint8_t>({1, 0, 1}, {3}, {.dtype = kBool})},
  };
  std::vector<uint8_t> bytes = serialize_safetensors(tensors, {{"epoch", "3"}});

  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
  CHECK(n % 8 == 0);
  REQUIRE(bytes.size() >= 8 + n);
  std::string header(bytes.begin() + 8, bytes.begin() + 8 + static_cast<int64_t>(n));
  CHECK(header.front() == '{');
  CHECK(header.substr(header.find_last_not_of(' ') + 1).size() < 8);  // padding: spaces only

  // Larger elements first, stable within a size; metadata first, as the reference writes it.
  auto expected = nlohmann::ordered_json::parse(R"({
    "__metadata__": {"epoch": "3"},
    "step": {"dtype": "I64", "shape": [], "data_offsets": [0, 8]},
    "w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [8, 24]},
    "h": {"dtype": "F16", "shape": [1], "data_offsets": [24, 26]},
    "mask": {"dtype": "BOOL", "shape": [3], "data_offsets": [26, 29]}})");
  CHECK(nlohmann::ordered_json::parse(header) == expected);

  std::vector<uint8_t> data(bytes.begin() + 8 + static_cast<int64_t>(n), bytes.end());
  std::vector<uint8_t> expected_data = {
      0x07, 0,    0,    0,    0, 0, 0,    0,     // step = 7, int64
      0,    0,    0x80, 0x3f, 0, 0, 0,    0x40,  // w = 1, 2 (float32)
      0,    0,    0x40, 0x40, 0, 0, 0x80, 0x40,  // w = 3, 4
      0x00, 0x3c,                                // h = 1 (float16 0x3c00)
      1,    0,    1};                            // mask
  CHECK(data == expected_data);

  ScratchDir dir;
  save_safetensors(dir / "t.safetensors", tensors, {{"epoch", "3"}});
  CHECK(read_file(dir / "t.safetensors") == bytes);
}

TEST_CASE("safetensors: every dtype round-trips bit for bit") {
  ScratchDir dir;
  for (DType dtype : all_dtypes()) {
    CAPTURE(dtype);
    std::vector<double> values = {0, 1, -2.5, 3, 100, -7};
    if (dtype == kBool) values = {0, 1, 1, 0, 1, 0};
    if (dtype == kUInt8) values = {0, 1, 2, 3, 255, 7};
    Tensor t = from_vector<double>(values, {2, 3}, {.dtype = dtype});
    SafetensorsFile parsed = parse_safetensors(serialize_safetensors({{"t", t}}));
    REQUIRE(parsed.tensors.size() == 1);
    check_bit_equal(parsed.tensors[0].second, t);

    save_safetensors(dir / "t.safetensors", {{"t", t}});
    SafetensorsFile loaded = load_safetensors(dir / "t.safetensors");
    REQUIRE(loaded.tensors.size() == 1);
    CHECK(loaded.tensors[0].first == "t");
    check_bit_equal(loaded.tensors[0].second, t);
  }
  // Special floating values keep their bits.
  Tensor specials = from_vector<double>({std::numeric_limits<double>::quiet_NaN(),
                                         std::numeric_limits<double>::infinity(), -0.0, 1e-310});
  check_bit_equal(parse_safetensors(serialize_safetensors({{"s", specials}})).tensors[0].second,
                  specials);
}

TEST_CASE("safetensors: tensors of every dtype in one file keep their names and order") {
  NamedTensors tensors;
  for (DType dtype : all_dtypes())
    tensors.emplace_back(name(dtype), from_vector<double>({1, 0, 1}, {3}, {.dtype = dtype}));
  SafetensorsFile file = parse_safetensors(serialize_safetensors(tensors));
  // Grouped by element size (8, 4, 2, 1 bytes), in the given order within a size.
  CHECK(names(file.tensors) == std::vector<std::string>{"float64", "int64", "float32", "int32",
                                                        "float16", "bfloat16", "uint8", "int8",
                                                        "bool"});
  for (const auto& named : file.tensors) {
    CAPTURE(named.first);
    CHECK(named.second.to_vector<double>() == std::vector<double>{1, 0, 1});
  }
}

TEST_CASE("safetensors: non-contiguous tensors are written in row-major order") {
  Tensor base = core::view(arange(12), {3, 4});
  NamedTensors tensors = {
      {"transposed", core::transpose(base, 0, 1)},
      {"strided", core::slice(base, 1, 0, 4, 2)},
      {"expanded", core::expand(from_vector<float>({1, 2, 3}, {1, 3}), {2, 3})},
  };
  for (const auto& [name, t] : tensors) REQUIRE_FALSE(t.is_contiguous());
  SafetensorsFile file = parse_safetensors(serialize_safetensors(tensors));
  REQUIRE(file.tensors.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CAPTURE(tensors[i].first);
    CHECK(file.tensors[i].first == tensors[i].first);
    CHECK(file.tensors[i].second.is_contiguous());
    CHECK(file.tensors[i].second.to_vector<double>() == tensors[i].second.to_vector<double>());
  }
  CHECK(file.tensors[0].second.to_vector<double>() ==
        std::vector<double>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});
}

TEST_CASE("safetensors: metadata round-trips, none means no __metadata__ entry") {
  SafetensorsMetadata metadata = {{"format", "pt"}, {"note", "température \"quoted\"\n"}, {"", ""}};
  CHECK(parse_safetensors(serialize_safetensors({{"x", zeros({1})}}, metadata)).metadata ==
        metadata);

  std::vector<uint8_t> bytes = serialize_safetensors({{"x", zeros({1})}});
  std::string text(bytes.begin() + 8, bytes.end());
  CHECK(text.find("__metadata__") == std::string::npos);
  CHECK(parse_safetensors(bytes).metadata.empty());
  // Only metadata, no tensors: an empty data section.
  SafetensorsFile only = parse_safetensors(serialize_safetensors({}, {{"k", "v"}}));
  CHECK(only.tensors.empty());
  CHECK(only.metadata.at("k") == "v");
}

TEST_CASE("safetensors: empty and 0-d tensors") {
  NamedTensors tensors = {
      {"empty", zeros({0})},
      {"empty3d", zeros({2, 0, 3}, {.dtype = kInt64})},
      {"scalar", scalar_tensor(2.5, {.dtype = kFloat64})},
      {"after", from_vector<int32_t>({5, 6})},
  };
  SafetensorsFile file = parse_safetensors(serialize_safetensors(tensors));
  REQUIRE(file.tensors.size() == 4);
  std::map<std::string, Tensor> by_name(file.tensors.begin(), file.tensors.end());
  CHECK(by_name["empty"].shape() == Shape{0});
  CHECK(by_name["empty3d"].shape() == Shape{2, 0, 3});
  CHECK(by_name["empty3d"].dtype() == kInt64);
  CHECK(by_name["scalar"].dim() == 0);
  CHECK(by_name["scalar"].item() == 2.5);
  CHECK(by_name["after"].to_vector<int32_t>() == std::vector<int32_t>{5, 6});

  // Several empty tensors may share an offset; a huge size beside a 0 is still empty.
  SafetensorsFile handmade =
      parse_safetensors(file_bytes("{\"a\":" + entry("F32", "[0]", 0, 0) +
                                       ",\"b\":" + entry("F32", "[0, 4611686018427387904]", 0, 0) +
                                       ",\"c\":" + entry("U8", "[1]", 0, 1) + "}",
                                   {9}));
  CHECK(handmade.tensors.size() == 3);
}

TEST_CASE("safetensors: the length prefix is checked before anything is read") {
  for (size_t size = 0; size < 8; ++size)
    check_rejects(std::vector<uint8_t>(size, 0), "too short for the 8-byte header length");

  std::vector<uint8_t> huge = file_bytes("{}");
  uint64_t too_big = kSafetensorsMaxHeaderBytes + 1;
  for (int i = 0; i < 8; ++i) huge[i] = static_cast<uint8_t>(too_big >> (8 * i));
  check_rejects(huge, "exceeds the limit of 100000000 bytes");

  std::vector<uint8_t> longer = file_bytes("{}");
  longer[0] = 3;
  check_rejects(longer, "header length 3 is larger than the 2 bytes after the length");
}

TEST_CASE("safetensors: malformed JSON and wrong JSON types") {
  check_rejects(file_bytes("{\"a\":"), "not valid JSON");
  check_rejects(file_bytes("{\"a\": 1} x"), "not valid JSON");
  check_rejects(file_bytes("{\"\xff\": 1}"), "not valid JSON");  // not UTF-8
  check_rejects(file_bytes(""), "not valid JSON");
  check_rejects(file_bytes("[1, 2]"), "the header is a JSON array, expected an object");
  check_rejects(file_bytes("{\"a\": 3}"), "tensor 'a' is a JSON number, expected an object");
  check_rejects(file_bytes("{\"a\": {\"dtype\": \"F32\", \"shape\": [[1]]}}"), "nests deeper");
  check_rejects(file_bytes("{\"a\": {\"dtype\": \"F32\", \"shape\": [1]}}"),
                "missing field 'data_offsets'");
  check_rejects(file_bytes("{\"a\": {\"dtype\": \"F32\", \"shape\": [], \"data_offsets\": [0, 4], "
                           "\"extra\": 1}}",
                           {0, 0, 0, 0}),
                "unexpected field 'extra'");
  check_rejects(file_bytes("{\"__metadata__\": [\"x\"]}"), "__metadata__ is a JSON array");
  check_rejects(file_bytes("{\"__metadata__\": {\"k\": 1}}"),
                "__metadata__ value for 'k' is a JSON number, expected a string");
}

TEST_CASE("safetensors: dtypes, shapes and offsets are validated") {
  auto one = [](const std::string& dtype, const std::string& shape, const std::string& offsets,
                size_t data_size) {
    return file_bytes("{\"t\": {\"dtype\": " + dtype + ", \"shape\": " + shape +
                          ", \"data_offsets\": " + offsets + "}}",
                      std::vector<uint8_t>(data_size, 0));
  };
  check_rejects(one("\"F33\"", "[1]", "[0, 4]", 4), "unknown dtype 'F33'");
  check_rejects(one("\"I16\"", "[1]", "[0, 2]", 2),
                "dtype I16 is a safetensors dtype that nabla does not support");
  check_rejects(one("\"U32\"", "[1]", "[0, 4]", 4), "does not support");
  check_rejects(one("4", "[1]", "[0, 4]", 4), "dtype is a JSON number, expected a string");

  check_rejects(one("\"F32\"", "[-1]", "[0, 4]", 4), "is not a list of non-negative integers");
  check_rejects(one("\"F32\"", "[1.0]", "[0, 4]", 4), "is not a list of non-negative integers");
  check_rejects(one("\"F32\"", "[\"1\"]", "[0, 4]", 4), "is not a list of non-negative integers");
  check_rejects(one("\"F32\"", "[1e30]", "[0, 4]", 4), "is not a list of non-negative integers");
  check_rejects(one("\"F32\"", "{}", "[0, 4]", 4), "shape is a JSON object, expected a list");
  check_rejects(one("\"F32\"", "[18446744073709551615]", "[0, 4]", 4), "too many elements");
  check_rejects(one("\"U8\"", "[4294967296, 4294967296]", "[0, 4]", 4), "too many elements");
  check_rejects(one("\"F64\"", "[2305843009213693952]", "[0, 8]", 8), "too large for dtype F64");
  check_rejects(one("\"F32\"", "[2, 3]", "[0, 8]", 8),
                "hold 8 bytes but shape [2, 3] of F32 needs 24");

  check_rejects(one("\"F32\"", "[1]", "[0, \"4\"]", 4),
                "is not a list of two non-negative integers");
  check_rejects(one("\"F32\"", "[1]", "[0, 4.0]", 4), "is not a list of two non-negative integers");
  check_rejects(one("\"F32\"", "[1]", "[4]", 4), "is not a list of two non-negative integers");
  check_rejects(one("\"F32\"", "[1]", "[0, 4, 8]", 4),
                "is not a list of two non-negative integers");
  check_rejects(one("\"F32\"", "[1]", "[-4, 0]", 4), "is not a list of two non-negative integers");
  check_rejects(one("\"F32\"", "[0]", "[4, 0]", 4), "begin after end");
  check_rejects(one("\"F32\"", "[1]", "[4, 8]", 4), "end past the data section of 4 bytes");
  check_rejects(one("\"F32\"", "[1]", "[0, 18446744073709551615]", 4), "end past the data section");
}

TEST_CASE("safetensors: tensor ranges must tile the data section") {
  // Two U8 tensors covering [a0, a1) and [b0, b1).
  auto two = [](uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1, size_t data_size) {
    std::ostringstream header;
    std::ostringstream a_shape, b_shape;
    a_shape << "[" << a1 - a0 << "]";
    b_shape << "[" << b1 - b0 << "]";
    header << "{\"a\":" << entry("U8", a_shape.str(), a0, a1)
           << ",\"b\":" << entry("U8", b_shape.str(), b0, b1) << "}";
    return file_bytes(header.str(), std::vector<uint8_t>(data_size, 0));
  };
  CHECK(parse_safetensors(two(4, 8, 0, 4, 8)).tensors.size() == 2);
  check_rejects(two(0, 4, 2, 6, 6), "tensor 'b' data_offsets [2, 6] overlap the tensor before it");
  check_rejects(two(0, 4, 0, 4, 4), "overlap");
  check_rejects(two(0, 4, 5, 8, 8), "a gap in the data section before tensor 'b' (bytes 4 to 5");
  check_rejects(two(1, 4, 4, 8, 8), "a gap in the data section before tensor 'a' (bytes 0 to 1");
  check_rejects(two(0, 4, 4, 8, 10), "the tensors cover 8 bytes but the data section holds 10");
  check_rejects(file_bytes("{}", {1}), "the tensors cover 0 bytes but the data section holds 1");
}

TEST_CASE("safetensors: duplicate names and keys are rejected") {
  std::string a = entry("U8", "[1]", 0, 1);
  check_rejects(file_bytes("{\"a\":" + a + ",\"a\":" + a + "}", {1, 2}),
                "duplicate tensor name 'a'");
  check_rejects(file_bytes("{\"a\":{\"dtype\":\"U8\",\"dtype\":\"U8\",\"shape\":[1],"
                           "\"data_offsets\":[0,1]}}",
                           {1}),
                "duplicate key 'dtype'");
  check_rejects(file_bytes("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}"), "duplicate key 'k'");
  check_rejects(file_bytes("{\"__metadata__\":{},\"__metadata__\":{}}"),
                "duplicate tensor name '__metadata__'");
}

TEST_CASE("safetensors: booleans hold 0 or 1 whatever the file says") {
  SafetensorsFile file =
      parse_safetensors(file_bytes("{\"m\":" + entry("BOOL", "[3]", 0, 3) + "}", {0, 2, 255}));
  CHECK(raw_bytes(file.tensors[0].second) == std::vector<uint8_t>{0, 1, 1});
}

TEST_CASE("safetensors: load_safetensors names the file it cannot read") {
  ScratchDir dir;
  CHECK_THROWS_WITH_AS(load_safetensors(dir / "missing.safetensors"),
                       doctest::Contains("missing.safetensors': cannot open"), IOError);
  std::filesystem::create_directory(dir / "folder");
  CHECK_THROWS_WITH_AS(load_safetensors(dir / "folder"), doctest::Contains("not a regular file"),
                       IOError);
  write_file(dir / "short.safetensors", {1, 2, 3});
  CHECK_THROWS_WITH_AS(load_safetensors(dir / "short.safetensors"),
                       doctest::Contains("short.safetensors': the file is 3 bytes, too short"),
                       IOError);
  write_file(dir / "bad.safetensors", file_bytes("{\"a\":" + entry("F32", "[2]", 0, 8) + "}", {}));
  CHECK_THROWS_WITH_AS(
      load_safetensors(dir / "bad.safetensors"),
      doctest::Contains("bad.safetensors': tensor 'a': data_offsets [0, 8] end past"), IOError);
}

TEST_CASE("safetensors: the writer rejects what it cannot write") {
  CHECK_THROWS_WITH_AS(serialize_safetensors({{"a", zeros({1})}, {"a", zeros({2})}}),
                       doctest::Contains("duplicate tensor name 'a'"), ValueError);
  CHECK_THROWS_WITH_AS(serialize_safetensors({{"__metadata__", zeros({1})}}),
                       doctest::Contains("reserved"), ValueError);
  CHECK_THROWS_WITH_AS(serialize_safetensors({{"a", Tensor()}}),
                       doctest::Contains("tensor 'a' is undefined"), ValueError);
  CHECK_THROWS_WITH_AS(serialize_safetensors({{"\xc3(", zeros({1})}}),
                       doctest::Contains("not valid UTF-8"), ValueError);
  CHECK_THROWS_WITH_AS(serialize_safetensors({}, {{"k", "\xff"}}),
                       doctest::Contains("not valid UTF-8"), ValueError);
}

// Note [mutated files]: whatever the bytes, a load either returns tensors or throws a nabla::Error;
// a crash, a hang or an out-of-bounds read is a bug (this runs under ASan/UBSan in test-asan).
TEST_CASE("safetensors: mutated files load or throw nabla::Error, never crash") {
  const std::vector<uint8_t> valid = serialize_safetensors(small_state(), {{"epoch", "4"}});
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | valid[i];
  int accepted = 0, rejected = 0;
  auto attempt = [&](const std::vector<uint8_t>& bytes) {
    try {
      SafetensorsFile file = parse_safetensors(bytes);
      // What was accepted can be written again and reads back the same.
      SafetensorsFile again = parse_safetensors(serialize_safetensors(file.tensors, file.metadata));
      CHECK(again.tensors.size() == file.tensors.size());
      ++accepted;
    } catch (const Error&) {
      ++rejected;
    }
  };

  SUBCASE("truncated at every length") {
    for (size_t size = 0; size < valid.size(); ++size)
      attempt(std::vector<uint8_t>(valid.begin(), valid.begin() + static_cast<int64_t>(size)));
    CHECK(accepted == 0);
    CHECK(rejected == static_cast<int>(valid.size()));

    // The file reader has its own path (pread with offsets): truncated files on disk too.
    ScratchDir dir;
    for (size_t size = 0; size < valid.size(); size += 7) {
      write_file(dir / "t.safetensors",
                 std::vector<uint8_t>(valid.begin(), valid.begin() + static_cast<int64_t>(size)));
      CHECK_THROWS_AS(load_safetensors(dir / "t.safetensors"), IOError);
    }
  }
  SUBCASE("every header byte flipped bit by bit and replaced by JSON punctuation") {
    for (size_t i = 0; i < 8 + header_size; ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        std::vector<uint8_t> bytes = valid;
        bytes[i] ^= static_cast<uint8_t>(1 << bit);
        attempt(bytes);
      }
      if (i < 8) continue;
      for (char c : std::string("{}[],:\"0-9 e.\\")) {
        std::vector<uint8_t> bytes = valid;
        bytes[i] = static_cast<uint8_t>(c);
        attempt(bytes);
      }
    }
    CHECK(rejected > 0);
    CHECK(accepted > 0);  // some flips only change a name or a metadata value
  }
  SUBCASE("hostile header lengths") {
    const uint64_t lengths[] = {0,
                                1,
                                7,
                                header_size - 1,
                                header_size + 1,
                                valid.size() - 8,
                                valid.size() - 7,
                                valid.size(),
                                kSafetensorsMaxHeaderBytes,
                                kSafetensorsMaxHeaderBytes + 1,
                                uint64_t{1} << 31,
                                uint64_t{1} << 32,
                                uint64_t{1} << 63,
                                ~uint64_t{0} - 7,
                                ~uint64_t{0}};
    for (uint64_t length : lengths) {
      CAPTURE(length);
      std::vector<uint8_t> bytes = valid;
      for (int i = 0; i < 8; ++i) bytes[i] = static_cast<uint8_t>(length >> (8 * i));
      CHECK_THROWS_AS(parse_safetensors(bytes), IOError);
    }
  }
}

namespace {

// Caps the size of files this process may write, so that a write fails part way (EFBIG instead
// of the SIGXFSZ that would end the process).
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &saved_);
    old_handler_ = signal(SIGXFSZ, SIG_IGN);
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &limit);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &saved_);
    signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit saved_{};
  sighandler_t old_handler_;
};

}  // namespace

TEST_CASE("safetensors: a failed save leaves the old file and no temporary file") {
  ScratchDir dir;
  const auto target = dir / "model.safetensors";
  save_safetensors(target, {{"old", arange(4)}});
  const std::vector<uint8_t> old_bytes = read_file(target);
  const std::vector<std::string> only_target = {"model.safetensors"};

  SUBCASE("invalid tensors: nothing is written") {
    CHECK_THROWS_AS(save_safetensors(target, {{"a", zeros({1})}, {"a", zeros({1})}}), ValueError);
  }
  SUBCASE("the file system refuses the data part way") {
    FileSizeLimit limit(256);
    CHECK_THROWS_WITH_AS(save_safetensors(target, {{"big", zeros({1000})}}),
                         doctest::Contains("failed"), IOError);
  }
  SUBCASE("the rename fails: the target is a non-empty directory") {
    const auto folder = dir / "folder";
    std::filesystem::create_directories(folder / "inside");
    CHECK_THROWS_WITH_AS(save_safetensors(folder, {{"x", zeros({2})}}),
                         doctest::Contains("cannot rename"), IOError);
    CHECK(std::filesystem::is_directory(folder / "inside"));
    std::filesystem::remove_all(folder);
  }
  SUBCASE("the directory does not exist") {
    CHECK_THROWS_WITH_AS(
        save_safetensors(dir / "absent" / "model.safetensors", {{"x", zeros({2})}}),
        doctest::Contains("absent"), IOError);
  }
  CHECK(dir.entries() == only_target);
  CHECK(read_file(target) == old_bytes);

  // A successful save replaces the file and leaves nothing else.
  save_safetensors(target, {{"new", ones({3})}});
  CHECK(dir.entries() == only_target);
  CHECK(names(load_safetensors(target).tensors) == std::vector<std::string>{"new"});
}
