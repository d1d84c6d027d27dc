// Checks of untrusted image bytes that stb_image 2.27 (Debian's) mishandles, made before stb sees
// them: decode_image calls check_before_stb first.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace nabla::data {

// IOError naming `name` for a JPEG Huffman table of more than 256 codes (stb writes past an
// array), a JPEG scan that uses a Huffman table never defined (stb reads uninitialized memory),
// and a PNG chunk longer than the bytes that follow it (stb allocates what the length claims, up
// to gigabytes, before it finds the data missing). Other data passes unchecked.
void check_before_stb(std::span<const uint8_t> bytes, const std::string& name);

}  // namespace nabla::data
