// Guards against stb_image 2.27's known failures on malformed JPEG and PNG data.
#include "data/stb_guard.h"

#include <cctype>
#include <cstring>

#include "core/error.h"
#include "data/io.h"

namespace nabla::data {

namespace {

// stb_image 2.27 writes past a 257-entry array when a JPEG Huffman table (a DHT segment) defines
// more than 256 codes; 2.28 refuses such tables. Every DHT segment that stb could reach is checked
// here: marker segments are skipped by their length, as stb skips them (or fails), and
// entropy-coded data is scanned byte by byte for markers, as stb's decoder finds them.
void check_jpeg_huffman_tables(std::span<const uint8_t> bytes, const std::string& name) {
  const size_t size = bytes.size();
  // stb takes the data for a JPEG when it starts with SOI, FF D8, fill bytes (FF) allowed between.
  size_t i = 0;
  if (size == 0 || bytes[0] != 0xFF) return;
  while (i < size && bytes[i] == 0xFF) ++i;
  if (i == size || bytes[i] != 0xD8) return;
  ++i;
  // stb reads a zero past the end.
  auto at = [&](size_t k) -> int { return k < size ? bytes[k] : 0; };
  while (i < size) {
    if (bytes[i] != 0xFF) {
      ++i;
      continue;
    }
    size_t m = i + 1;
    while (m < size && bytes[m] == 0xFF) ++m;  // fill bytes
    if (m >= size) return;
    const int marker = bytes[m];
    i = m + 1;
    if (marker == 0xD9) return;  // end of image: stb reads no further
    // Byte stuffing, restart markers, SOI and TEM carry no length.
    if (marker == 0x00 || marker == 0x01 || marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7))
      continue;
    const size_t length = static_cast<size_t>(at(i) << 8 | at(i + 1));
    if (marker == 0xC4) {
      // The tables as stb reads them: class/id, 16 counts, then that many values each.
      size_t p = i + 2;
      for (int64_t left = static_cast<int64_t>(length) - 2; left > 0;) {
        const int q = at(p++);
        if ((q >> 4) > 1 || (q & 15) > 3) break;  // stb refuses this table
        int64_t codes = 0;
        for (int k = 0; k < 16; ++k) codes += at(p++);
        NABLA_CHECK(codes <= 256, IOError, "decode_image: '", name,
                    "' is a corrupt JPEG: a Huffman table defines ", codes,
                    " codes, more than 256");
        p += static_cast<size_t>(codes);
        left -= 17 + codes;
      }
    }
    i += length;
  }
}

// stb_image 2.27 grows its buffer for the compressed image to what each IDAT chunk's length
// claims before reading the chunk, so a 100-byte file can make it allocate 2 GiB. Every chunk up
// to IEND must fit in the bytes that follow its header.
void check_png_chunk_lengths(std::span<const uint8_t> bytes, const std::string& name) {
  static constexpr uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  const size_t size = bytes.size();
  if (size < 8 || std::memcmp(bytes.data(), kSignature, 8) != 0) return;
  for (size_t i = 8; i + 8 <= size;) {
    const uint32_t length = load_big_endian32(bytes.data() + i);
    std::string type(4, '?');
    for (int k = 0; k < 4; ++k)
      if (std::isalpha(bytes[i + 4 + k])) type[k] = static_cast<char>(bytes[i + 4 + k]);
    const size_t left = size - i - 8;
    NABLA_CHECK(length <= left, IOError, "decode_image: '", name,
                "' is a truncated or corrupt PNG: its ", type, " chunk claims ", length,
                " bytes but ", left, " follow");
    if (type == "IEND") return;
    i += 12 + static_cast<size_t>(length);  // header, data, CRC
  }
}

}  // namespace

void check_before_stb(std::span<const uint8_t> bytes, const std::string& name) {
  check_jpeg_huffman_tables(bytes, name);
  check_png_chunk_lengths(bytes, name);
}

}  // namespace nabla::data
