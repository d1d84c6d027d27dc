// Guards against stb_image 2.27's known failures on malformed JPEG and PNG data.
#include "data/stb_guard.h"

#include <cctype>
#include <cstring>

#include "core/error.h"
#include "data/io.h"

namespace nabla::data {

namespace {

// stb_image 2.27 trusts a JPEG's Huffman tables where 2.28 no longer does: a table (in a DHT
// segment) of more than 256 codes makes it write past a 257-entry array, and a scan that uses a
// table no DHT segment defined decodes with uninitialized memory and reads out of bounds with it.
// Both are refused here, checking every segment stb could reach: marker segments are skipped by
// their length (stb consumes exactly that or fails), and entropy-coded data is scanned byte by
// byte for the markers at which stb's decoder stops.
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
  auto corrupt = [&](const auto&... parts) {
    throw IOError(detail::concat("decode_image: '", name, "' is a corrupt JPEG: ", parts...));
  };
  bool defined[2][4] = {};  // [DC or AC][table id]
  bool progressive = false;
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
    const size_t body = i + 2;
    if (marker == 0xC0 || marker == 0xC1 || marker == 0xC2) {
      progressive = marker == 0xC2;
    } else if (marker == 0xC4) {
      // The tables as stb reads them: class and id, 16 counts, then that many values each.
      size_t p = body;
      for (int64_t left = static_cast<int64_t>(length) - 2; left > 0;) {
        const int table_class = at(p) >> 4, id = at(p) & 15;
        ++p;
        if (table_class > 1 || id > 3) break;  // stb refuses the segment
        int64_t codes = 0;
        for (int k = 0; k < 16; ++k) codes += at(p++);
        if (codes > 256) corrupt("a Huffman table defines ", codes, " codes, more than 256");
        defined[table_class][id] = true;
        p += static_cast<size_t>(codes);
        left -= 17 + codes;
      }
    } else if (marker == 0xDA) {
      // A scan header: components, each with its DC and AC table ids, then the spectral start
      // and the successive-approximation bits. A progressive scan uses only some of the tables.
      const int components = at(body);
      const size_t params = body + 1 + 2 * static_cast<size_t>(components);
      const int spectral_start = at(params), approximation_high = at(params + 2) >> 4;
      const bool uses_dc = !progressive || (spectral_start == 0 && approximation_high == 0);
      const bool uses_ac = !progressive || spectral_start != 0;
      for (int c = 0; c < components && c < 4; ++c) {
        const int dc = at(body + 2 + 2 * c) >> 4, ac = at(body + 2 + 2 * c) & 15;
        if (dc > 3 || ac > 3) break;  // stb refuses the scan
        if (uses_dc && !defined[0][dc])
          corrupt("a scan uses DC Huffman table ", dc, ", which no DHT segment defined");
        if (uses_ac && !defined[1][ac])
          corrupt("a scan uses AC Huffman table ", ac, ", which no DHT segment defined");
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
