// Image decoding through stb_image and image-folder datasets.
#include "data/image.h"

#define STBI_NO_STDIO
#include <stb/stb_image.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstring>
#include <memory>

#include "core/creation.h"
#include "data/io.h"

namespace nabla::data {

namespace {

struct StbiFree {
  void operator()(unsigned char* p) const { stbi_image_free(p); }
};

std::string failure_reason() {
  const char* reason = stbi_failure_reason();
  return reason ? reason : "unknown reason";
}

bool has_image_extension(const std::filesystem::path& file) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
}

std::vector<std::filesystem::path> sorted_entries(const std::filesystem::path& dir, bool folders) {
  std::vector<std::filesystem::path> out;
  for (const std::filesystem::directory_entry& e : std::filesystem::directory_iterator(dir)) {
    if (folders ? e.is_directory() : (e.is_regular_file() && has_image_extension(e.path())))
      out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Note [stb_image's Huffman tables]: stb_image 2.27 writes past a 257-entry array when a JPEG
// Huffman table (a DHT segment) defines more than 256 codes; 2.28 refuses such tables. Until the
// system's copy has the fix, every DHT segment that stb could reach is checked here first: marker
// segments are skipped by their length, as stb skips them (or fails), and entropy-coded data is
// scanned byte by byte for markers, as stb's decoder finds them.
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

}  // namespace

Tensor decode_image(std::span<const uint8_t> bytes, const std::string& name,
                    const ImageOptions& options) {
  NABLA_CHECK(bytes.size() <= static_cast<size_t>(INT_MAX), IOError, "decode_image: '", name,
              "' is ", bytes.size(), " bytes; stb_image reads at most ", INT_MAX);
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int length = static_cast<int>(bytes.size());
  check_jpeg_huffman_tables(bytes, name);
  int width = 0, height = 0, channels = 0;
  NABLA_CHECK(stbi_info_from_memory(data, length, &width, &height, &channels), IOError,
              "decode_image: '", name,
              "' is not a PNG, JPEG or BMP image (stb_image: ", failure_reason(), ")");
  NABLA_CHECK(width > 0 && height > 0, IOError, "decode_image: '", name, "' claims a size of ",
              width, "x", height);
  NABLA_CHECK(width <= options.max_width && height <= options.max_height, IOError,
              "decode_image: '", name, "' is ", width, "x", height,
              " pixels, larger than the limit of ", options.max_width, "x", options.max_height,
              " (ImageOptions::max_width, max_height)");
  int w = 0, h = 0, c = 0;
  std::unique_ptr<unsigned char, StbiFree> pixels(
      stbi_load_from_memory(data, length, &w, &h, &c, 3));
  NABLA_CHECK(pixels != nullptr, IOError, "decode_image: cannot decode '", name,
              "' (stb_image: ", failure_reason(), ")");
  NABLA_CHECK(w == width && h == height, IOError, "decode_image: '", name, "' decoded to ", w, "x",
              h, " but its header says ", width, "x", height);
  // stb gives interleaved RGB rows; tensors hold one plane per channel.
  Tensor out = empty({3, h, w}, {.dtype = kUInt8});
  uint8_t* dst = out.data<uint8_t>();
  const int64_t plane = int64_t{h} * w;
  for (int64_t i = 0; i < plane; ++i) {
    dst[i] = pixels.get()[3 * i];
    dst[plane + i] = pixels.get()[3 * i + 1];
    dst[2 * plane + i] = pixels.get()[3 * i + 2];
  }
  return out;
}

Tensor read_image(const std::filesystem::path& file, const ImageOptions& options) {
  return decode_image(read_file(file, "read_image"), file.string(), options);
}

LabeledImages read_image_folder(const std::filesystem::path& root, const ImageOptions& options) {
  std::error_code error;
  NABLA_CHECK(std::filesystem::is_directory(root, error), IOError, "read_image_folder: '",
              root.string(), "' is not a folder");
  LabeledImages out;
  std::vector<Tensor> images;
  std::vector<int64_t> labels;
  std::filesystem::path first;
  for (const std::filesystem::path& folder : sorted_entries(root, true)) {
    const int64_t label = static_cast<int64_t>(out.classes.size());
    out.classes.push_back(folder.filename().string());
    std::vector<std::filesystem::path> files = sorted_entries(folder, false);
    NABLA_CHECK(!files.empty(), IOError, "read_image_folder: class folder '", folder.string(),
                "' holds no .png, .jpg, .jpeg or .bmp files");
    for (const std::filesystem::path& file : files) {
      Tensor image = read_image(file, options);
      if (images.empty()) first = file;
      NABLA_CHECK(images.empty() || image.shape() == images.front().shape(), IOError,
                  "read_image_folder: '", file.string(), "' is ", image.size(2), "x", image.size(1),
                  " but '", first.string(), "' is ", images.front().size(2), "x",
                  images.front().size(1), "; the images of a folder must share one size");
      images.push_back(std::move(image));
      labels.push_back(label);
    }
  }
  NABLA_CHECK(!images.empty(), IOError, "read_image_folder: '", root.string(),
              "' has no class subfolders");
  out.images = stack_examples(images, "read_image_folder");
  out.labels = from_vector(labels);
  return out;
}

}  // namespace nabla::data
