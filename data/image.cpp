// Image decoding through stb_image and image-folder datasets.
#include "data/image.h"

#define STBI_NO_STDIO
#include <stb/stb_image.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <memory>

#include "core/creation.h"
#include "data/io.h"
#include "data/stb_guard.h"

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

}  // namespace

Tensor decode_image(std::span<const uint8_t> bytes, const std::string& name,
                    const ImageOptions& options) {
  NABLA_CHECK(bytes.size() <= static_cast<size_t>(INT_MAX), IOError, "decode_image: '", name,
              "' is ", bytes.size(), " bytes; stb_image reads at most ", INT_MAX);
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int length = static_cast<int>(bytes.size());
  check_before_stb(bytes, name);
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
