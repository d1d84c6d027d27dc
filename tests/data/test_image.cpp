// Images: PNG, BMP and JPEG decoding to [3, H, W], grey and alpha to RGB, the size limit,
// undecodable files, and image folders.
#include <doctest/doctest.h>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

#include <algorithm>
#include <cstdlib>

#include "core/creation.h"
#include "data/image.h"
#include "data_testing.h"

using namespace nabla;
using namespace nabla::data;

namespace {

enum class Format { png, bmp, jpg };

// Encodes interleaved pixels (h rows of w * channels bytes) with stb_image_write.
std::vector<uint8_t> encode(Format format, int w, int h, int channels,
                            const std::vector<uint8_t>& pixels) {
  std::vector<uint8_t> out;
  auto append = [](void* context, void* data, int size) {
    auto* bytes = static_cast<std::vector<uint8_t>*>(context);
    bytes->insert(bytes->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
  };
  int ok = format == Format::png
               ? stbi_write_png_to_func(append, &out, w, h, channels, pixels.data(), w * channels)
           : format == Format::bmp
               ? stbi_write_bmp_to_func(append, &out, w, h, channels, pixels.data())
               : stbi_write_jpg_to_func(append, &out, w, h, channels, pixels.data(), 100);
  REQUIRE(ok != 0);
  return out;
}

// RGB pixel (y, x) of a w-wide test pattern.
std::vector<uint8_t> pattern(int w, int h, int channels) {
  std::vector<uint8_t> p(static_cast<size_t>(w * h * channels));
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<uint8_t>(i * 29 % 256);
  return p;
}

// Element (c, y, x) of a [3, H, W] tensor.
int at(const Tensor& t, int64_t c, int64_t y, int64_t x) {
  return t.data<uint8_t>()[(c * t.size(1) + y) * t.size(2) + x];
}

}  // namespace

TEST_CASE("PNG and BMP decode exactly to planes [3, H, W]") {
  const int w = 5, h = 3;
  std::vector<uint8_t> rgb = pattern(w, h, 3);
  for (Format f : {Format::png, Format::bmp}) {
    Tensor t = decode_image(encode(f, w, h, 3, rgb), "img");
    CHECK(t.dtype() == kUInt8);
    CHECK(t.shape() == Shape{3, h, w});
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        for (int c = 0; c < 3; ++c) CHECK(at(t, c, y, x) == rgb[(y * w + x) * 3 + c]);
  }
}

TEST_CASE("grey becomes RGB, alpha is dropped, JPEG decodes close to its source") {
  const int w = 4, h = 2;
  std::vector<uint8_t> grey = pattern(w, h, 1);
  Tensor g = decode_image(encode(Format::png, w, h, 1, grey), "grey.png");
  CHECK(g.shape() == Shape{3, h, w});
  for (int c = 0; c < 3; ++c) CHECK(at(g, c, 1, 2) == grey[1 * w + 2]);
  std::vector<uint8_t> rgba = pattern(w, h, 4);
  Tensor a = decode_image(encode(Format::png, w, h, 4, rgba), "alpha.png");
  CHECK(a.shape() == Shape{3, h, w});
  CHECK(at(a, 2, 1, 3) == rgba[(1 * w + 3) * 4 + 2]);
  // A flat colour survives JPEG within a few levels.
  std::vector<uint8_t> flat(16 * 16 * 3);
  for (size_t i = 0; i < flat.size(); ++i) flat[i] = i % 3 == 0 ? 200 : i % 3 == 1 ? 100 : 50;
  Tensor j = decode_image(encode(Format::jpg, 16, 16, 3, flat), "flat.jpg");
  CHECK(j.shape() == Shape{3, 16, 16});
  CHECK(std::abs(at(j, 0, 8, 8) - 200) <= 3);
  CHECK(std::abs(at(j, 1, 3, 12) - 100) <= 3);
  CHECK(std::abs(at(j, 2, 15, 0) - 50) <= 3);
}

TEST_CASE("bytes that are not an image, a truncated image, an image over the limit") {
  std::vector<uint8_t> text = {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'};
  CHECK_THROWS_WITH_AS(
      decode_image(text, "notes.png"),
      doctest::Contains("'notes.png' is not a PNG, JPEG or BMP image (stb_image: "), IOError);
  std::vector<uint8_t> png = encode(Format::png, 40, 30, 3, pattern(40, 30, 3));
  std::vector<uint8_t> cut(png.begin(), png.begin() + static_cast<std::ptrdiff_t>(png.size() / 2));
  CHECK_THROWS_WITH_AS(decode_image(cut, "cut.png"),
                       doctest::Contains("'cut.png' is a truncated or corrupt PNG: its IDAT chunk"),
                       IOError);
  // A zlib stream of an unknown compression method, where IDAT's data starts.
  std::vector<uint8_t> bad = png;
  REQUIRE(std::string(bad.begin() + 37, bad.begin() + 41) == "IDAT");
  bad[41] = 0;
  CHECK_THROWS_WITH_AS(decode_image(bad, "bad.png"),
                       doctest::Contains("cannot decode 'bad.png' (stb_image: "), IOError);
  CHECK_THROWS_WITH_AS(decode_image(png, "big.png", {.max_width = 39, .max_height = 100}),
                       doctest::Contains("'big.png' is 40x30 pixels, larger than the limit of "
                                         "39x100"),
                       IOError);
  CHECK(decode_image(png, "fits.png", {.max_width = 40, .max_height = 30}).shape() ==
        Shape{3, 30, 40});
}

TEST_CASE("a PNG chunk longer than the file is refused before stb_image allocates for it") {
  std::vector<uint8_t> png = encode(Format::png, 4, 3, 3, pattern(4, 3, 3));
  // The IHDR chunk (13 bytes) follows the signature; the next chunk's length is at byte 33.
  REQUIRE(std::string(png.begin() + 37, png.begin() + 41) == "IDAT");
  png[33] = 0x7f;
  CHECK_THROWS_WITH_AS(decode_image(png, "long.png"),
                       doctest::Contains("'long.png' is a truncated or corrupt PNG: its IDAT "
                                         "chunk claims 2130706"),
                       IOError);
}

TEST_CASE("a JPEG Huffman table of more than 256 codes is refused before stb_image reads it") {
  std::vector<uint8_t> jpg = encode(Format::jpg, 8, 8, 3, pattern(8, 8, 3));
  REQUIRE(decode_image(jpg, "ok.jpg").shape() == Shape{3, 8, 8});
  // A DHT segment after SOI: table class 0, id 0, 16 counts of 20 (320 codes).
  std::vector<uint8_t> dht = {0xFF, 0xC4, 0x00, 0x13, 0x00};
  for (int k = 0; k < 16; ++k) dht.push_back(20);
  jpg.insert(jpg.begin() + 2, dht.begin(), dht.end());
  CHECK_THROWS_WITH_AS(decode_image(jpg, "evil.jpg"),
                       doctest::Contains("'evil.jpg' is a corrupt JPEG: a Huffman table defines "
                                         "320 codes, more than 256"),
                       IOError);
}

TEST_CASE("a JPEG scan that uses an undefined Huffman table is refused before stb_image reads it") {
  std::vector<uint8_t> jpg = encode(Format::jpg, 8, 8, 3, pattern(8, 8, 3));
  // The scan header: FF DA, length, component count, then (component id, DC << 4 | AC) pairs.
  const uint8_t marker[] = {0xFF, 0xDA};
  auto sos = std::search(jpg.begin(), jpg.end(), std::begin(marker), std::end(marker));
  REQUIRE(sos != jpg.end());
  sos[6] = 0x21;  // DC table 2, AC table 1 for the first component
  CHECK_THROWS_WITH_AS(decode_image(jpg, "scan.jpg"),
                       doctest::Contains("'scan.jpg' is a corrupt JPEG: a scan uses DC Huffman "
                                         "table 2, which no DHT segment defined"),
                       IOError);
  sos[6] = 0x03;
  CHECK_THROWS_WITH_AS(decode_image(jpg, "scan.jpg"),
                       doctest::Contains("a scan uses AC Huffman table 3"), IOError);
}

TEST_CASE("an image folder: sorted classes, sorted files, other files ignored") {
  testing::TempDir tmp;
  const int w = 3, h = 2;
  auto image = [&](int value) {
    std::vector<uint8_t> p(w * h * 3, static_cast<uint8_t>(value));
    return encode(Format::png, w, h, 3, p);
  };
  testing::write_bytes(tmp / "dog" / "b.png", image(20));
  testing::write_bytes(tmp / "dog" / "a.PNG", image(10));
  testing::write_bytes(tmp / "cat" / "z.bmp",
                       encode(Format::bmp, w, h, 3, std::vector<uint8_t>(w * h * 3, 30)));
  testing::write_bytes(tmp / "cat" / "notes.txt", {'x'});
  LabeledImages li = read_image_folder(tmp.path());
  CHECK(li.classes == std::vector<std::string>{"cat", "dog"});
  CHECK(li.images.shape() == Shape{3, 3, h, w});
  CHECK(li.labels.to_vector<int64_t>() == std::vector<int64_t>{0, 1, 1});
  CHECK(at(li.images, 0, 0, 0) == 30);
  CHECK(li.images.data<uint8_t>()[1 * 3 * h * w] == 10);
  CHECK(li.images.data<uint8_t>()[2 * 3 * h * w + 5] == 20);

  testing::write_bytes(tmp / "dog" / "c.png", encode(Format::png, 4, 2, 3, pattern(4, 2, 3)));
  CHECK_THROWS_WITH_AS(read_image_folder(tmp.path()), doctest::Contains("c.png' is 4x2 but"),
                       IOError);
  std::filesystem::remove(tmp / "dog" / "c.png");
  testing::write_bytes(tmp / "dog" / "d.jpg", {'n', 'o', 't'});
  CHECK_THROWS_WITH_AS(read_image_folder(tmp.path()),
                       doctest::Contains("d.jpg' is not a PNG, JPEG or BMP image"), IOError);
  std::filesystem::remove(tmp / "dog" / "d.jpg");
  std::filesystem::create_directories(tmp / "emu");
  CHECK_THROWS_WITH_AS(read_image_folder(tmp.path()),
                       doctest::Contains("emu' holds no .png, .jpg, .jpeg or .bmp files"), IOError);
  CHECK_THROWS_WITH_AS(read_image_folder(tmp / "missing"), doctest::Contains("is not a folder"),
                       IOError);
}
