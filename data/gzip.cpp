// zlib's inflate behind GzipReader.
#include "data/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <limits>

#include "core/error.h"

namespace nabla::data {

bool is_gzip(std::span<const uint8_t> bytes) {
  return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

struct GzipReader::State {
  z_stream stream{};
  std::span<const uint8_t> input;  // not yet handed to zlib
  std::string name;
  const char* op;
  bool ended = false;
};

GzipReader::GzipReader(std::span<const uint8_t> bytes, std::string name, const char* op)
    : state_(std::make_unique<State>()) {
  state_->input = bytes;
  state_->name = std::move(name);
  state_->op = op;
  // 16 + MAX_WBITS: a gzip wrapper, with its header and CRC checked.
  int rc = inflateInit2(&state_->stream, 16 + MAX_WBITS);
  NABLA_CHECK(rc == Z_OK, IOError, op, ": cannot start decompressing '", state_->name,
              "': zlib error ", rc);
}

GzipReader::~GzipReader() { inflateEnd(&state_->stream); }

size_t GzipReader::read(uint8_t* out, size_t size) {
  State& s = *state_;
  z_stream& z = s.stream;
  // zlib counts in 32 bits, so large buffers go through in chunks.
  constexpr size_t kChunk = size_t{1} << 30;
  size_t done = 0;
  while (done < size && !s.ended) {
    if (z.avail_in == 0 && !s.input.empty()) {
      size_t n = std::min(s.input.size(), kChunk);
      z.next_in = const_cast<Bytef*>(s.input.data());
      z.avail_in = static_cast<uInt>(n);
      s.input = s.input.subspan(n);
    }
    size_t want = std::min(size - done, kChunk);
    z.next_out = out + done;
    z.avail_out = static_cast<uInt>(want);
    int rc = inflate(&z, Z_NO_FLUSH);
    done += want - z.avail_out;
    if (rc == Z_STREAM_END) {
      s.ended = true;
    } else if (rc == Z_BUF_ERROR && z.avail_in == 0 && s.input.empty()) {
      throw IOError(detail::concat(s.op, ": '", s.name,
                                   "' is a truncated gzip stream (it ends after ", z.total_in,
                                   " compressed bytes, ", z.total_out, " decompressed)"));
    } else {
      NABLA_CHECK(rc == Z_OK || rc == Z_BUF_ERROR, IOError, s.op, ": '", s.name,
                  "' is corrupt gzip data: ", z.msg ? z.msg : "zlib error", " (after ", z.total_out,
                  " decompressed bytes)");
    }
  }
  return done;
}

}  // namespace nabla::data
