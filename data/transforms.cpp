// Image transforms as loops over raw memory: they run once per sample inside the loader's
// workers, so each is one pass with no per-pixel dispatch.
#include "data/transforms.h"

#include <algorithm>
#include <cstring>

#include "core/creation.h"
#include "core/ops.h"

namespace nabla::data {

namespace {

// A CPU [C, H, W] tensor, contiguous, for the raw loops below.
Tensor image_input(const Tensor& x, const char* op) {
  NABLA_CHECK(x.defined(), ValueError, op, ": got an undefined tensor");
  NABLA_CHECK(x.device().is_cpu(), DeviceError, op, ": the image is on ", x.device(),
              "; transforms run on the CPU");
  NABLA_CHECK(x.dim() == 3, ShapeError, op, ": expected an image [C, H, W], got shape ", x.shape());
  return x.is_contiguous() ? x : core::contiguous(x);
}

// Crop, flip and cutout only move elements, so they work on same-sized unsigned words: one
// instantiation per element size serves every dtype.
template <class Fn>
void visit_itemsize(DType dtype, Fn&& fn) {
  switch (itemsize(dtype)) {
    case 1:
      return fn.template operator()<uint8_t>();
    case 2:
      return fn.template operator()<uint16_t>();
    case 4:
      return fn.template operator()<uint32_t>();
    default:
      return fn.template operator()<uint64_t>();
  }
}

// The source index of padded position i (in [0, size + 2 * padding)), or -1 for a zero.
int64_t source_index(int64_t i, int64_t size, int64_t padding, Padding mode) {
  int64_t s = i - padding;
  if (s >= 0 && s < size) return s;
  if (mode == Padding::zero) return -1;
  return s < 0 ? -s : 2 * (size - 1) - s;
}

}  // namespace

Tensor crop(const Tensor& input, int64_t top, int64_t left, int64_t height, int64_t width,
            int64_t padding, Padding mode) {
  Tensor x = image_input(input, "crop");
  const int64_t c = x.size(0), h = x.size(1), w = x.size(2);
  NABLA_CHECK(padding >= 0, ValueError, "crop: padding must be non-negative, got ", padding);
  NABLA_CHECK(height > 0 && width > 0, ValueError, "crop: the window ", height, "x", width,
              " must not be empty");
  NABLA_CHECK(mode == Padding::zero || (padding < h && padding < w), ValueError,
              "crop: reflect padding ", padding, " must be smaller than the image ", h, "x", w);
  NABLA_CHECK(
      top >= 0 && left >= 0 && top + height <= h + 2 * padding && left + width <= w + 2 * padding,
      ValueError, "crop: the window ", height, "x", width, " at (", top, ", ", left,
      ") does not fit the image ", h, "x", w, " padded by ", padding);
  Tensor out = empty({c, height, width}, {.dtype = x.dtype()});
  // Output column j reads source column cols[j]; the ones inside the image form one run that
  // a memcpy moves.
  std::vector<int64_t> cols(width);
  int64_t run_begin = width, run_end = width;
  for (int64_t j = 0; j < width; ++j) {
    cols[j] = source_index(left + j, w, padding, mode);
    int64_t s = left + j - padding;
    if (s >= 0 && s < w) {
      if (run_begin == width) run_begin = j;
      run_end = j + 1;
    }
  }
  visit_itemsize(x.dtype(), [&]<class T>() {
    const T* src = static_cast<const T*>(x.raw_data());
    T* dst = static_cast<T*>(out.raw_data());
    for (int64_t ch = 0; ch < c; ++ch) {
      for (int64_t i = 0; i < height; ++i, dst += width) {
        int64_t row = source_index(top + i, h, padding, mode);
        if (row < 0) {
          std::fill(dst, dst + width, T{0});
          continue;
        }
        const T* src_row = src + (ch * h + row) * w;
        for (int64_t j = 0; j < run_begin; ++j) dst[j] = cols[j] < 0 ? T{0} : src_row[cols[j]];
        if (run_begin < run_end)
          std::memcpy(dst + run_begin, src_row + cols[run_begin],
                      static_cast<size_t>(run_end - run_begin) * sizeof(T));
        for (int64_t j = run_end; j < width; ++j) dst[j] = cols[j] < 0 ? T{0} : src_row[cols[j]];
      }
    }
  });
  return out;
}

Tensor hflip(const Tensor& input) {
  Tensor x = image_input(input, "hflip");
  Tensor out = empty(x.shape(), {.dtype = x.dtype()});
  const int64_t rows = x.size(0) * x.size(1), w = x.size(2);
  visit_itemsize(x.dtype(), [&]<class T>() {
    const T* src = static_cast<const T*>(x.raw_data());
    T* dst = static_cast<T*>(out.raw_data());
    for (int64_t r = 0; r < rows; ++r, src += w, dst += w)
      for (int64_t j = 0; j < w; ++j) dst[j] = src[w - 1 - j];
  });
  return out;
}

Tensor cutout(const Tensor& input, int64_t center_y, int64_t center_x, int64_t size, double value) {
  Tensor x = image_input(input, "cutout");
  NABLA_CHECK(size >= 0, ValueError, "cutout: size must be non-negative, got ", size);
  const int64_t c = x.size(0), h = x.size(1), w = x.size(2);
  // A plain copy: transforms run on the loader's threads, where core's copy would start an OpenMP
  // team per worker on a large image.
  Tensor out = empty(x.shape(), {.dtype = x.dtype()});
  std::memcpy(out.raw_data(), x.raw_data(), static_cast<size_t>(x.numel()) * itemsize(x.dtype()));
  const int64_t y0 = std::clamp<int64_t>(center_y - size / 2, 0, h);
  const int64_t y1 = std::clamp<int64_t>(center_y - size / 2 + size, 0, h);
  const int64_t x0 = std::clamp<int64_t>(center_x - size / 2, 0, w);
  const int64_t x1 = std::clamp<int64_t>(center_x - size / 2 + size, 0, w);
  if (y0 >= y1 || x0 >= x1) return out;
  visit_dtype<DTypeSet::numeric>(x.dtype(), "cutout", [&]<class T>() {
    T* data = out.data<T>();
    const T fill = static_cast<T>(value);
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t i = y0; i < y1; ++i)
        std::fill(data + (ch * h + i) * w + x0, data + (ch * h + i) * w + x1, fill);
  });
  return out;
}

Tensor to_float(const Tensor& x) {
  NABLA_CHECK(x.defined(), ValueError, "to_float: got an undefined tensor");
  if (x.dtype() == kFloat32) return x;
  if (x.dtype() != kUInt8) return core::to(x, kFloat32);
  Tensor c = x.is_contiguous() ? x : core::contiguous(x);
  Tensor out = empty(c.shape());
  const uint8_t* src = c.data<uint8_t>();
  float* dst = out.data<float>();
  const int64_t n = c.numel();
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(src[i]) / 255.0f;
  return out;
}

Tensor normalize(const Tensor& input, const std::vector<float>& mean,
                 const std::vector<float>& std) {
  NABLA_CHECK(input.defined() && input.dim() >= 1, ShapeError,
              "normalize: expected a tensor [C, ...], got ",
              input.defined() ? input.shape() : Shape{});
  NABLA_CHECK(input.dtype() == kFloat32, DTypeError, "normalize: expected float32, got ",
              input.dtype(), " (convert uint8 images with to_float first)");
  NABLA_CHECK(input.device().is_cpu(), DeviceError, "normalize: the tensor is on ", input.device(),
              "; transforms run on the CPU");
  const int64_t c = input.size(0);
  NABLA_CHECK(
      mean.size() == std.size() && (mean.size() == 1 || static_cast<int64_t>(mean.size()) == c),
      ShapeError, "normalize: ", mean.size(), " means and ", std.size(), " stds for an input of ",
      c, " channels ", input.shape());
  Tensor x = input.is_contiguous() ? input : core::contiguous(input);
  Tensor out = empty(x.shape());
  const int64_t plane = c == 0 ? 0 : x.numel() / c;
  const float* src = x.data<float>();
  float* dst = out.data<float>();
  for (int64_t ch = 0; ch < c; ++ch) {
    const float m = mean[mean.size() == 1 ? 0 : ch], s = std[std.size() == 1 ? 0 : ch];
    for (int64_t i = 0; i < plane; ++i) dst[ch * plane + i] = (src[ch * plane + i] - m) / s;
  }
  return out;
}

Compose::Compose(std::vector<TransformPtr> transforms) : transforms_(std::move(transforms)) {
  for (size_t i = 0; i < transforms_.size(); ++i)
    NABLA_CHECK(transforms_[i] != nullptr, ValueError, "Compose: transform ", i, " is null");
}

Tensor Compose::operator()(const Tensor& x, RandomStream& random) const {
  Tensor y = x;
  for (const TransformPtr& t : transforms_) y = (*t)(y, random);
  return y;
}

TransformPtr compose(std::initializer_list<TransformPtr> transforms) {
  return std::make_shared<Compose>(std::vector<TransformPtr>(transforms));
}

Tensor ToFloat::operator()(const Tensor& x, RandomStream&) const { return to_float(x); }

Normalize::Normalize(std::vector<float> mean, std::vector<float> std)
    : mean_(std::move(mean)), std_(std::move(std)) {
  NABLA_CHECK(!mean_.empty() && mean_.size() == std_.size(), ValueError,
              "Normalize: ", mean_.size(), " means and ", std_.size(),
              " stds; expected one of each per channel");
  for (float s : std_)
    NABLA_CHECK(s > 0, ValueError, "Normalize: every std must be positive, got ", s);
}

Tensor Normalize::operator()(const Tensor& x, RandomStream&) const {
  return normalize(x, mean_, std_);
}

RandomCrop::RandomCrop(int64_t height, int64_t width, int64_t padding, Padding mode)
    : height_(height), width_(width), padding_(padding), mode_(mode) {
  NABLA_CHECK(height > 0 && width > 0 && padding >= 0, ValueError, "RandomCrop: size ", height, "x",
              width, " must be positive and padding ", padding, " non-negative");
}

Tensor RandomCrop::operator()(const Tensor& x, RandomStream& random) const {
  NABLA_CHECK(x.dim() == 3, ShapeError, "RandomCrop: expected an image [C, H, W], got shape ",
              x.shape());
  const int64_t free_rows = x.size(1) + 2 * padding_ - height_;
  const int64_t free_cols = x.size(2) + 2 * padding_ - width_;
  NABLA_CHECK(free_rows >= 0 && free_cols >= 0, ShapeError, "RandomCrop: the window ", height_, "x",
              width_, " is larger than the image ", x.size(1), "x", x.size(2), " padded by ",
              padding_);
  const int64_t top = random.uniform_int(0, free_rows + 1);
  const int64_t left = random.uniform_int(0, free_cols + 1);
  return crop(x, top, left, height_, width_, padding_, mode_);
}

RandomHorizontalFlip::RandomHorizontalFlip(double p) : p_(p) {
  NABLA_CHECK(p >= 0 && p <= 1, ValueError, "RandomHorizontalFlip: p must lie in [0, 1], got ", p);
}

Tensor RandomHorizontalFlip::operator()(const Tensor& x, RandomStream& random) const {
  return random.bernoulli(p_) ? hflip(x) : x;
}

Cutout::Cutout(int64_t size, double p, double value) : size_(size), p_(p), value_(value) {
  NABLA_CHECK(size > 0, ValueError, "Cutout: size must be positive, got ", size);
  NABLA_CHECK(p >= 0 && p <= 1, ValueError, "Cutout: p must lie in [0, 1], got ", p);
}

Tensor Cutout::operator()(const Tensor& x, RandomStream& random) const {
  NABLA_CHECK(x.dim() == 3, ShapeError, "Cutout: expected an image [C, H, W], got shape ",
              x.shape());
  // Every draw is made whether or not the square is applied, so that the next transform's draws
  // do not depend on this one's outcome.
  const bool apply = random.bernoulli(p_);
  const int64_t cy = random.uniform_int(0, std::max<int64_t>(x.size(1), 1));
  const int64_t cx = random.uniform_int(0, std::max<int64_t>(x.size(2), 1));
  return apply ? cutout(x, cy, cx, size_, value_) : x;
}

}  // namespace nabla::data
