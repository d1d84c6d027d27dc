// Images: PNG, JPEG and BMP decoding (stb_image) with a size limit checked before decoding, and
// image folders with one subfolder per class.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "core/tensor.h"
#include "data/dataset.h"

namespace nabla::data {

struct ImageOptions {
  // Larger images are refused from their header, before any pixel is decoded.
  int64_t max_width = 4096;
  int64_t max_height = 4096;
};

// Decodes a PNG, JPEG or BMP image to uint8 [3, H, W]: grey becomes RGB, alpha is dropped.
// IOError naming `name` when the bytes are not such an image (with stb_image's reason) or the
// image exceeds the options' limit.
Tensor decode_image(std::span<const uint8_t> bytes, const std::string& name,
                    const ImageOptions& options = {});
Tensor read_image(const std::filesystem::path& file, const ImageOptions& options = {});

// An image folder, root/<class>/<image>, like torchvision's ImageFolder: classes are the
// subfolders sorted by name and labelled 0, 1, ...; their images are the files ending in .png,
// .jpg, .jpeg or .bmp (any case), sorted by name, other files ignored. All images must share one
// size; they are decoded into images uint8 [N, 3, H, W].
LabeledImages read_image_folder(const std::filesystem::path& root,
                                const ImageOptions& options = {});

}  // namespace nabla::data
