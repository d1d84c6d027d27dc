// IDX reader: the header is checked (magic, type, dims with overflow-checked products) before the
// data is touched, and the data must be exactly as long as the dims say.
#include "data/idx.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/creation.h"
#include "core/ops.h"
#include "data/gzip.h"
#include "data/io.h"

namespace nabla::data {

namespace {

constexpr const char* kOp = "parse_idx";

struct ElementType {
  DType dtype;    // what the tensor holds
  size_t stored;  // bytes per element in the file
  const char* name;
};

ElementType element_type(uint8_t code, const std::string& name) {
  switch (code) {
    case 0x08:
      return {kUInt8, 1, "uint8"};
    case 0x09:
      return {kInt8, 1, "int8"};
    case 0x0B:
      return {kInt32, 2, "int16"};
    case 0x0C:
      return {kInt32, 4, "int32"};
    case 0x0D:
      return {kFloat32, 4, "float32"};
    case 0x0E:
      return {kFloat64, 8, "float64"};
    default:
      throw IOError(detail::concat(kOp, ": '", name, "' has type code 0x", std::hex, int{code},
                                   "; IDX type codes are 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E"));
  }
}

// Reads from a plain buffer or through a GzipReader, so the header logic is written once.
class Source {
 public:
  Source(std::span<const uint8_t> bytes, const std::string& name) : bytes_(bytes) {
    if (is_gzip(bytes)) gzip_ = std::make_unique<GzipReader>(bytes, name, kOp);
  }
  bool compressed() const { return gzip_ != nullptr; }
  // Up to `size` bytes; fewer at the end of the data.
  size_t read(uint8_t* out, size_t size) {
    if (gzip_) return gzip_->read(out, size);
    size_t n = std::min(size, bytes_.size());
    std::memcpy(out, bytes_.data(), n);
    bytes_ = bytes_.subspan(n);
    return n;
  }

 private:
  std::span<const uint8_t> bytes_;
  std::unique_ptr<GzipReader> gzip_;
};

void read_exactly(Source& source, uint8_t* out, size_t size, const std::string& name,
                  const char* what) {
  size_t got = source.read(out, size);
  NABLA_CHECK(got == size, IOError, kOp, ": '", name, "' ends inside its ", what, " (", got, " of ",
              size, " bytes", source.compressed() ? " after decompression" : "",
              "): truncated, or not an IDX file");
}

// Big-endian elements -> the tensor's native little-endian values.
void decode_elements(const uint8_t* src, int64_t count, const ElementType& type, void* dst) {
  switch (type.stored) {
    case 1:
      std::memcpy(dst, src, static_cast<size_t>(count));
      return;
    case 2:
      for (int64_t i = 0; i < count; ++i)
        static_cast<int32_t*>(dst)[i] =
            static_cast<int16_t>(static_cast<uint16_t>((src[2 * i] << 8) | src[2 * i + 1]));
      return;
    case 4:
      for (int64_t i = 0; i < count; ++i) {
        uint32_t v = load_big_endian32(src + 4 * i);
        std::memcpy(static_cast<char*>(dst) + 4 * i, &v, 4);
      }
      return;
    default:
      for (int64_t i = 0; i < count; ++i) {
        uint64_t v =
            (uint64_t{load_big_endian32(src + 8 * i)} << 32) | load_big_endian32(src + 8 * i + 4);
        std::memcpy(static_cast<char*>(dst) + 8 * i, &v, 8);
      }
  }
}

}  // namespace

Tensor parse_idx(std::span<const uint8_t> bytes, const std::string& name) {
  Source source(bytes, name);
  uint8_t magic[4];
  read_exactly(source, magic, 4, name, "magic number");
  NABLA_CHECK(magic[0] == 0 && magic[1] == 0, IOError, kOp, ": '", name,
              "' has a bad magic number: it starts with bytes ", int{magic[0]}, " ", int{magic[1]},
              ", an IDX file with 0 0");
  const ElementType type = element_type(magic[2], name);
  const int ndim = magic[3];
  NABLA_CHECK(ndim >= 1, IOError, kOp, ": '", name, "' has 0 dims; an IDX file has at least 1");
  std::vector<uint8_t> header(4 * static_cast<size_t>(ndim));
  read_exactly(source, header.data(), header.size(), name, "dims");
  Shape shape;
  uint64_t count = 1;
  // Strides multiply the dims after the first even when another dim is 0, so those products
  // must fit int64 too.
  uint64_t nonzero = 1;
  for (int d = 0; d < ndim; ++d) {
    const uint32_t size = load_big_endian32(header.data() + 4 * d);
    shape.push_back(size);
    NABLA_CHECK(!__builtin_mul_overflow(count, uint64_t{size}, &count) &&
                    (size == 0 || !__builtin_mul_overflow(nonzero, uint64_t{size}, &nonzero)),
                IOError, kOp, ": '", name, "' has dims ", shape, "... whose product overflows");
  }
  uint64_t data_bytes = 0;
  constexpr uint64_t kMaxBytes = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  NABLA_CHECK(!__builtin_mul_overflow(count, uint64_t{type.stored}, &data_bytes) &&
                  data_bytes <= kMaxBytes && nonzero <= kMaxBytes,
              IOError, kOp, ": '", name, "' has dims ", shape, " of ", type.name,
              ": too many elements to address");
  const uint64_t header_bytes = 4 + header.size();
  if (!source.compressed()) {
    // Plain data: its size is known before anything is copied.
    NABLA_CHECK(bytes.size() - header_bytes == data_bytes, IOError, kOp, ": '", name, "' has dims ",
                shape, " of ", type.name, ", which need ", data_bytes, " bytes of data, but ",
                bytes.size() - header_bytes, " follow the header");
    Tensor out = empty(shape, {.dtype = type.dtype});
    decode_elements(bytes.data() + header_bytes, static_cast<int64_t>(count), type, out.raw_data());
    return out;
  }
  // Compressed data is inflated in pieces, so a header that promises more than the stream holds
  // costs no more memory than the stream really produces.
  std::vector<uint8_t> data;
  constexpr uint64_t kPiece = uint64_t{16} << 20;
  while (data.size() < data_bytes) {
    size_t offset = data.size();
    size_t piece = static_cast<size_t>(std::min(kPiece, data_bytes - offset));
    data.resize(offset + piece);
    size_t got = source.read(data.data() + offset, piece);
    NABLA_CHECK(got == piece, IOError, kOp, ": '", name, "' has dims ", shape, " of ", type.name,
                ", which need ", data_bytes, " bytes of data, but only ", offset + got,
                " follow the header after decompression");
  }
  uint8_t extra;
  NABLA_CHECK(source.read(&extra, 1) == 0, IOError, kOp, ": '", name, "' has dims ", shape, " of ",
              type.name, ", which need ", data_bytes,
              " bytes of data, but more follow the header after decompression");
  Tensor out = empty(shape, {.dtype = type.dtype});
  decode_elements(data.data(), static_cast<int64_t>(count), type, out.raw_data());
  return out;
}

Tensor read_idx_file(const std::filesystem::path& file) {
  return parse_idx(read_file(file, "read_idx_file"), file.string());
}

const std::vector<std::string>& fashion_mnist_classes() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                                 "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                                 "Bag",         "Ankle boot"};
  return names;
}

namespace {

// `stem` itself when it exists, else stem.gz.
std::filesystem::path plain_or_gz(const std::filesystem::path& dir, const std::string& stem) {
  std::filesystem::path plain = dir / stem, gz = dir / (stem + ".gz");
  if (std::filesystem::exists(plain)) return plain;
  NABLA_CHECK(std::filesystem::exists(gz), IOError, "read_fashion_mnist: neither '", plain.string(),
              "' nor '", gz.string(), "' exists");
  return gz;
}

}  // namespace

LabeledImages read_fashion_mnist(const std::filesystem::path& dir, Split split) {
  const std::string prefix = split == Split::train ? "train" : "t10k";
  const std::filesystem::path image_file = plain_or_gz(dir, prefix + "-images-idx3-ubyte");
  const std::filesystem::path label_file = plain_or_gz(dir, prefix + "-labels-idx1-ubyte");
  Tensor images = read_idx_file(image_file);
  Tensor labels = read_idx_file(label_file);
  NABLA_CHECK(images.dtype() == kUInt8 && images.dim() == 3, IOError, "read_fashion_mnist: '",
              image_file.string(), "' holds ", images.dtype(), " ", images.shape(),
              ", expected uint8 images [N, H, W]");
  NABLA_CHECK(labels.dtype() == kUInt8 && labels.dim() == 1, IOError, "read_fashion_mnist: '",
              label_file.string(), "' holds ", labels.dtype(), " ", labels.shape(),
              ", expected uint8 labels [N]");
  const int64_t n = images.size(0);
  NABLA_CHECK(labels.size(0) == n, IOError, "read_fashion_mnist: '", image_file.string(),
              "' holds ", n, " images but '", label_file.string(), "' ", labels.size(0), " labels");
  LabeledImages out;
  out.images = core::view(images, {n, 1, images.size(1), images.size(2)});
  out.labels = empty({n}, {.dtype = kInt64});
  const uint8_t* src = labels.data<uint8_t>();
  int64_t* dst = out.labels.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    NABLA_CHECK(src[i] < 10, IOError, "read_fashion_mnist: '", label_file.string(), "' label ", i,
                " is ", int{src[i]}, "; Fashion-MNIST labels are 0..9");
    dst[i] = src[i];
  }
  out.classes = fashion_mnist_classes();
  return out;
}

}  // namespace nabla::data
