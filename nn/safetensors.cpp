// The safetensors reader and writer: dtype codes, header validation, and atomic file writes.
#include "nn/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstring>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "core/creation.h"
#include "core/error.h"
#include "core/ops.h"

namespace nabla::nn {
namespace {

// The data section is copied to and from memory as is.
static_assert(std::endian::native == std::endian::little,
              "safetensors stores little-endian data; a big-endian host would need byte swaps");

// The reader's JSON: std::map objects, so that a header with many tensors parses in n log n.
// (ordered_json finds keys by linear search: 100,000 tensors took 25 s.)
using Json = nlohmann::json;

constexpr const char* kMetadataKey = "__metadata__";

std::optional<DType> dtype_from_code(const std::string& code) {
  for (DType d : {kFloat64, kFloat32, kFloat16, kBFloat16, kInt64, kInt32, kInt8, kUInt8, kBool})
    if (code == safetensors_dtype_code(d)) return d;
  return std::nullopt;
}

// Codes the format defines but nabla has no dtype for: such a file is valid, just not loadable.
bool is_unsupported_code(const std::string& code) {
  static const std::set<std::string> codes = {"I16",     "U16",     "U32",     "U64",
                                              "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3",
                                              "F6_E3M2", "F4",      "C64"};
  return codes.count(code) > 0;
}

std::string quote(const std::string& s) { return "'" + s + "'"; }

// ---- Reading ----

// One tensor as the header describes it; begin and end are relative to the data section.
struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin;
  uint64_t end;
};

struct Header {
  std::vector<Entry> entries;  // sorted by data offset
  SafetensorsMetadata metadata;
};

// The first pass over the header's JSON (see HeaderParser::parse_json).
class HeaderScan : public nlohmann::json_sax<Json> {
 public:
  explicit HeaderScan(const std::string& where) : where_(where) {}

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    enter();
    keys_.emplace_back();
    return true;
  }
  bool key(string_t& key) override {
    NABLA_CHECK(keys_.back().insert(key).second, IOError, where_, ": duplicate ",
                keys_.size() == 1 ? "tensor name " : "key ", quote(key), " in the header");
    return true;
  }
  bool end_object() override {
    keys_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    enter();
    ++open_arrays_;
    return true;
  }
  bool end_array() override {
    --open_arrays_;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const Json::exception& e) override {
    throw IOError(detail::concat(where_, ": the header is not valid JSON (", e.what(), ")"));
  }

 private:
  // The top object, a tensor's object, its shape and offsets lists: three levels.
  void enter() {
    NABLA_CHECK(keys_.size() + open_arrays_ < 3, IOError, where_,
                ": the header nests deeper than a safetensors header can");
  }

  const std::string& where_;
  std::vector<std::set<std::string>> keys_;  // per open object
  size_t open_arrays_ = 0;
};

// `where` starts every message: "load_safetensors: 'model.safetensors'".
class HeaderParser {
 public:
  HeaderParser(std::string where, uint64_t data_size)
      : where_(std::move(where)), data_size_(data_size) {}

  Header parse(std::string_view text) {
    Json root = parse_json(text);
    NABLA_CHECK(root.is_object(), IOError, where_, ": the header is a JSON ", root.type_name(),
                ", expected an object mapping tensor names to their entries");
    Header header;
    for (auto& [name, value] : root.items()) {
      if (name == kMetadataKey) {
        header.metadata = parse_metadata(value);
      } else {
        header.entries.push_back(parse_entry(name, value));
      }
    }
    check_layout(header.entries);
    return header;
  }

 private:
  // Two passes: a scan that builds nothing and rejects duplicate keys (which the parser would
  // silently overwrite) and deeper nesting than the format has, then the parse itself. nlohmann's
  // parser callbacks could check while building, but they take time quadratic in the number of
  // tensors (20,000 took 2 s).
  Json parse_json(std::string_view text) {
    HeaderScan scan(where_);
    try {
      Json::sax_parse(text.begin(), text.end(), &scan);
      return Json::parse(text.begin(), text.end());
    } catch (const Json::exception& e) {
      throw IOError(detail::concat(where_, ": the header is not valid JSON (", e.what(), ")"));
    }
  }

  SafetensorsMetadata parse_metadata(const Json& value) {
    NABLA_CHECK(value.is_object(), IOError, where_, ": ", kMetadataKey, " is a JSON ",
                value.type_name(), ", expected an object of strings");
    SafetensorsMetadata metadata;
    for (const auto& [key, item] : value.items()) {
      NABLA_CHECK(item.is_string(), IOError, where_, ": ", kMetadataKey, " value for ", quote(key),
                  " is a JSON ", item.type_name(), ", expected a string");
      metadata[key] = item.get<std::string>();
    }
    return metadata;
  }

  // A JSON integer that is not negative; "-0" parses as a signed zero.
  static std::optional<uint64_t> non_negative(const Json& v) {
    if (v.is_number_unsigned()) return v.get<uint64_t>();
    if (v.is_number_integer() && v.get<int64_t>() >= 0) return v.get<int64_t>();
    return std::nullopt;
  }

  Entry parse_entry(const std::string& name, const Json& value) {
    const std::string what = where_ + ": tensor " + quote(name);
    NABLA_CHECK(value.is_object(), IOError, what, " is a JSON ", value.type_name(),
                ", expected an object with dtype, shape and data_offsets");
    for (const auto& [key, item] : value.items()) {
      NABLA_CHECK(key == "dtype" || key == "shape" || key == "data_offsets", IOError, what,
                  ": unexpected field ", quote(key), " (expected dtype, shape, data_offsets)");
    }
    for (const char* field : {"dtype", "shape", "data_offsets"})
      NABLA_CHECK(value.contains(field), IOError, what, ": missing field '", field, "'");

    Entry entry{.name = name, .dtype = kFloat32, .shape = {}, .begin = 0, .end = 0};
    const Json& dtype = value["dtype"];
    NABLA_CHECK(dtype.is_string(), IOError, what, ": dtype is a JSON ", dtype.type_name(),
                ", expected a string such as \"F32\"");
    const auto& code = dtype.get_ref<const std::string&>();
    std::optional<DType> parsed = dtype_from_code(code);
    NABLA_CHECK(parsed || !is_unsupported_code(code), IOError, what, ": dtype ", code,
                " is a safetensors dtype that nabla does not support (nabla reads F64, F32, F16, "
                "BF16, I64, I32, I8, U8, BOOL)");
    NABLA_CHECK(parsed, IOError, what, ": unknown dtype ", quote(code));
    entry.dtype = *parsed;

    // Element count and byte size with overflow checks. Sizes of 0 are skipped in the product
    // so that the strides of an empty tensor fit in int64 too.
    const Json& shape = value["shape"];
    NABLA_CHECK(shape.is_array(), IOError, what, ": shape is a JSON ", shape.type_name(),
                ", expected a list of non-negative integers");
    constexpr uint64_t kMax = std::numeric_limits<int64_t>::max();
    uint64_t nonzero_product = 1;
    bool empty = false;
    for (const Json& dim : shape) {
      std::optional<uint64_t> size = non_negative(dim);
      NABLA_CHECK(size, IOError, what, ": shape ", shape.dump(),
                  " is not a list of non-negative integers");
      NABLA_CHECK(*size <= kMax && (*size == 0 || nonzero_product <= kMax / *size), IOError, what,
                  ": shape ", shape.dump(), " has too many elements");
      if (*size == 0) empty = true;
      nonzero_product *= std::max<uint64_t>(*size, 1);
      entry.shape.push_back(static_cast<int64_t>(*size));
    }
    uint64_t item = itemsize(entry.dtype);
    NABLA_CHECK(empty || nonzero_product <= kMax / item, IOError, what, ": shape ", shape.dump(),
                " is too large for dtype ", code);
    uint64_t nbytes = empty ? 0 : nonzero_product * item;

    const Json& offsets = value["data_offsets"];
    std::optional<uint64_t> begin, end;
    if (offsets.is_array() && offsets.size() == 2) {
      begin = non_negative(offsets[0]);
      end = non_negative(offsets[1]);
    }
    NABLA_CHECK(begin && end, IOError, what, ": data_offsets ", offsets.dump(),
                " is not a list of two non-negative integers [begin, end]");
    NABLA_CHECK(*begin <= *end, IOError, what, ": data_offsets [", *begin, ", ", *end,
                "] begin after end");
    NABLA_CHECK(*end <= data_size_, IOError, what, ": data_offsets [", *begin, ", ", *end,
                "] end past the data section of ", data_size_, " bytes");
    NABLA_CHECK(*end - *begin == nbytes, IOError, what, ": data_offsets [", *begin, ", ", *end,
                "] hold ", *end - *begin, " bytes but shape ", entry.shape, " of ", code, " needs ",
                nbytes);
    entry.begin = *begin;
    entry.end = *end;
    return entry;
  }

  // The ranges, sorted, must tile the data section: no gaps, no overlaps, nothing left over.
  void check_layout(std::vector<Entry>& entries) {
    std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    uint64_t position = 0;
    for (const Entry& e : entries) {
      NABLA_CHECK(e.begin >= position, IOError, where_, ": tensor ", quote(e.name),
                  " data_offsets [", e.begin, ", ", e.end, "] overlap the tensor before it");
      NABLA_CHECK(e.begin == position, IOError, where_,
                  ": a gap in the data section before tensor ", quote(e.name), " (bytes ", position,
                  " to ", e.begin, " belong to no tensor)");
      position = e.end;
    }
    NABLA_CHECK(position == data_size_, IOError, where_, ": the tensors cover ", position,
                " bytes but the data section holds ", data_size_);
  }

  std::string where_;
  uint64_t data_size_;
};

// A nonzero byte is true: nabla's bool must hold exactly 0 or 1.
void normalize_bools(const Tensor& t) {
  auto* p = static_cast<uint8_t*>(t.raw_data());
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = p[i] != 0;
}

// Builds the tensors of a validated header; `read(offset, destination, count)` copies bytes of
// the data section.
SafetensorsFile make_tensors(Header header,
                             const std::function<void(uint64_t, void*, size_t)>& read) {
  SafetensorsFile file;
  file.metadata = std::move(header.metadata);
  file.tensors.reserve(header.entries.size());
  for (Entry& e : header.entries) {
    Tensor t = empty(e.shape, {.dtype = e.dtype});
    if (e.end > e.begin) read(e.begin, t.raw_data(), e.end - e.begin);
    if (e.dtype == kBool) normalize_bools(t);
    file.tensors.emplace_back(std::move(e.name), std::move(t));
  }
  return file;
}

uint64_t read_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// The checks on the length prefix, before anything is allocated for the header.
void check_header_length(const std::string& where, uint64_t file_size, uint64_t header_size) {
  NABLA_CHECK(file_size >= 8, IOError, where, ": the file is ", file_size,
              " bytes, too short for the 8-byte header length");
  NABLA_CHECK(header_size <= kSafetensorsMaxHeaderBytes, IOError, where, ": header length ",
              header_size, " exceeds the limit of ", kSafetensorsMaxHeaderBytes, " bytes");
  NABLA_CHECK(header_size <= file_size - 8, IOError, where, ": header length ", header_size,
              " is larger than the ", file_size - 8, " bytes after the length");
}

std::string errno_text() { return std::strerror(errno); }

// An open file descriptor, closed on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

void read_exact(int fd, const std::string& where, uint64_t offset, void* destination,
                size_t count) {
  auto* p = static_cast<char*>(destination);
  while (count > 0) {
    ssize_t n = ::pread(fd, p, count, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    NABLA_CHECK(n >= 0, IOError, where, ": read failed: ", errno_text());
    NABLA_CHECK(n > 0, IOError, where, ": the file ended early (did it change while reading?)");
    p += n;
    offset += static_cast<uint64_t>(n);
    count -= static_cast<size_t>(n);
  }
}

// ---- Writing ----

// The tensors in file order with their offsets, and the header bytes that describe them.
struct Layout {
  std::vector<uint8_t> header;                       // length prefix, JSON, padding
  std::vector<std::pair<Tensor, uint64_t>> tensors;  // tensor, byte size
};

Layout plan(const NamedTensors& tensors, const SafetensorsMetadata& metadata, const char* op) {
  std::set<std::string> names;
  for (const auto& [name, t] : tensors) {
    NABLA_CHECK(t.defined(), ValueError, op, ": tensor ", quote(name), " is undefined");
    NABLA_CHECK(name != kMetadataKey, ValueError, op, ": the name ", kMetadataKey,
                " is reserved for the header's metadata");
    NABLA_CHECK(names.insert(name).second, ValueError, op, ": duplicate tensor name ", quote(name));
  }
  // Larger elements first: every offset is then a multiple of its tensor's element size.
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return itemsize(tensors[a].second.dtype()) > itemsize(tensors[b].second.dtype());
  });

  // The header is assembled entry by entry, in data order, with each entry's fields in the
  // reference writer's order (dtype, shape, data_offsets).
  Layout layout;
  std::string text = "{";
  auto add = [&](const std::string& key, const std::string& value) {
    if (text.size() > 1) text += ',';
    text += Json(key).dump() + ':' + value;
  };
  try {
    if (!metadata.empty()) add(kMetadataKey, Json(metadata).dump());
    uint64_t offset = 0;
    for (size_t i : order) {
      const auto& [name, t] = tensors[i];
      uint64_t nbytes = static_cast<uint64_t>(t.numel()) * itemsize(t.dtype());
      nlohmann::ordered_json entry = {
          {"dtype", safetensors_dtype_code(t.dtype())},
          {"shape", std::vector<int64_t>(t.shape().begin(), t.shape().end())},
          {"data_offsets", {offset, offset + nbytes}}};
      add(name, entry.dump());
      offset += nbytes;
      layout.tensors.emplace_back(t, nbytes);
    }
  } catch (const Json::exception& e) {
    throw ValueError(detail::concat(op, ": a tensor name or metadata string is not valid UTF-8 (",
                                    e.what(), ")"));
  }
  text += '}';
  // Spaces pad the header to a multiple of 8 bytes, as the reference writer does.
  text.append((8 - text.size() % 8) % 8, ' ');
  uint64_t length = text.size();
  for (int i = 0; i < 8; ++i) layout.header.push_back(static_cast<uint8_t>(length >> (8 * i)));
  layout.header.insert(layout.header.end(), text.begin(), text.end());
  return layout;
}

// The tensor's bytes in row-major order: itself when it is a contiguous CPU tensor.
Tensor cpu_contiguous(const Tensor& t) { return core::contiguous(core::to(t, Device::cpu())); }

// A uniquely named file beside the target; removed on destruction unless committed.
class TemporaryFile {
 public:
  explicit TemporaryFile(const std::filesystem::path& target) {
    static std::atomic<uint64_t> counter{0};
    for (int attempt = 0; attempt < 100; ++attempt) {
      std::ostringstream name;
      name << "." << target.filename().string() << ".tmp" << ::getpid() << "_" << counter++;
      path_ = target.parent_path() / name.str();
      // 0666 under the umask: the file gets the permissions any newly written file would.
      int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd >= 0) {
        fd_ = fd;
        return;
      }
      NABLA_CHECK(errno == EEXIST, IOError, "save_safetensors: cannot create a temporary file ",
                  quote(path_.string()), " for ", quote(target.string()), ": ", errno_text());
    }
    throw IOError(detail::concat("save_safetensors: no free temporary file name beside ",
                                 quote(target.string())));
  }
  ~TemporaryFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
  }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;

  void write(const void* data, size_t count) {
    const auto* p = static_cast<const char*>(data);
    while (count > 0) {
      ssize_t n = ::write(fd_, p, count);
      if (n < 0 && errno == EINTR) continue;
      NABLA_CHECK(n > 0, IOError, "save_safetensors: writing ", quote(path_.string()),
                  " failed: ", errno_text());
      p += n;
      count -= static_cast<size_t>(n);
    }
  }

  // Syncs the data to disk and renames the file over `target`; the rename is atomic, so a reader
  // sees either the old file or the complete new one.
  void commit(const std::filesystem::path& target) {
    NABLA_CHECK(::fsync(fd_) == 0, IOError, "save_safetensors: syncing ", quote(path_.string()),
                " failed: ", errno_text());
    int status = ::close(std::exchange(fd_, -1));
    NABLA_CHECK(status == 0, IOError, "save_safetensors: closing ", quote(path_.string()),
                " failed: ", errno_text());
    NABLA_CHECK(::rename(path_.c_str(), target.c_str()) == 0, IOError,
                "save_safetensors: cannot rename the temporary file to ", quote(target.string()),
                ": ", errno_text());
    committed_ = true;
    // The rename itself is durable once the directory is synced. It has happened either way, so
    // a file system that cannot sync directories is not an error.
    std::filesystem::path dir = target.parent_path().empty() ? "." : target.parent_path();
    Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir_fd.get() >= 0) ::fsync(dir_fd.get());
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace

const char* safetensors_dtype_code(DType dtype) {
  switch (dtype) {
    case DType::float64:
      return "F64";
    case DType::float32:
      return "F32";
    case DType::float16:
      return "F16";
    case DType::bfloat16:
      return "BF16";
    case DType::int64:
      return "I64";
    case DType::int32:
      return "I32";
    case DType::int8:
      return "I8";
    case DType::uint8:
      return "U8";
    case DType::bool_:
      return "BOOL";
  }
  NABLA_ASSERT(false);
}

std::vector<uint8_t> serialize_safetensors(const NamedTensors& tensors,
                                           const SafetensorsMetadata& metadata) {
  Layout layout = plan(tensors, metadata, "serialize_safetensors");
  std::vector<uint8_t> bytes = std::move(layout.header);
  for (const auto& [t, nbytes] : layout.tensors) {
    Tensor c = cpu_contiguous(t);
    const auto* p = static_cast<const uint8_t*>(c.raw_data());
    bytes.insert(bytes.end(), p, p + nbytes);
  }
  return bytes;
}

void save_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                      const SafetensorsMetadata& metadata) {
  NABLA_CHECK(path.has_filename(), ValueError, "save_safetensors: ", quote(path.string()),
              " does not name a file");
  Layout layout = plan(tensors, metadata, "save_safetensors");
  TemporaryFile file(path);
  file.write(layout.header.data(), layout.header.size());
  // One CPU copy at a time, so that saving from a device needs memory for one tensor only.
  for (const auto& [t, nbytes] : layout.tensors) file.write(cpu_contiguous(t).raw_data(), nbytes);
  file.commit(path);
}

SafetensorsFile parse_safetensors(std::span<const uint8_t> bytes, const std::string& source) {
  std::string where = "parse_safetensors: " + source;
  uint64_t header_size = bytes.size() >= 8 ? read_le64(bytes.data()) : 0;
  check_header_length(where, bytes.size(), header_size);
  std::span<const uint8_t> data = bytes.subspan(8 + header_size);
  std::string_view text(reinterpret_cast<const char*>(bytes.data() + 8), header_size);
  Header header = HeaderParser(where, data.size()).parse(text);
  return make_tensors(std::move(header), [&](uint64_t offset, void* destination, size_t count) {
    std::memcpy(destination, data.data() + offset, count);
  });
}

SafetensorsFile load_safetensors(const std::filesystem::path& path) {
  std::string where = "load_safetensors: " + quote(path.string());
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  NABLA_CHECK(fd.get() >= 0, IOError, where, ": cannot open: ", errno_text());
  struct stat info {};
  NABLA_CHECK(::fstat(fd.get(), &info) == 0, IOError, where, ": cannot stat: ", errno_text());
  NABLA_CHECK(S_ISREG(info.st_mode), IOError, where, ": not a regular file");
  auto file_size = static_cast<uint64_t>(info.st_size);

  uint8_t prefix[8] = {};
  if (file_size >= 8) read_exact(fd.get(), where, 0, prefix, 8);
  uint64_t header_size = read_le64(prefix);
  check_header_length(where, file_size, header_size);
  std::string text(header_size, '\0');
  read_exact(fd.get(), where, 8, text.data(), header_size);
  uint64_t data_start = 8 + header_size;
  Header header = HeaderParser(where, file_size - data_start).parse(text);
  return make_tensors(std::move(header), [&](uint64_t offset, void* destination, size_t count) {
    read_exact(fd.get(), where, data_start + offset, destination, count);
  });
}

}  // namespace nabla::nn
