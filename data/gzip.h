// gzip decompression over a byte buffer, through zlib, producing only as many bytes as the caller
// asks for: a reader that knows how much data to expect never inflates more.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace nabla::data {

// True when `bytes` starts with gzip's magic number (1f 8b).
bool is_gzip(std::span<const uint8_t> bytes);

class GzipReader {
 public:
  // `bytes` must outlive the reader; `name` and `op` label IOError messages.
  GzipReader(std::span<const uint8_t> bytes, std::string name, const char* op);
  ~GzipReader();
  GzipReader(const GzipReader&) = delete;
  GzipReader& operator=(const GzipReader&) = delete;

  // Decompresses up to `size` bytes into `out` and returns how many it wrote: fewer only when
  // the stream has ended. IOError when the data is corrupt or stops before the stream's end.
  size_t read(uint8_t* out, size_t size);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace nabla::data
