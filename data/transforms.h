// Transforms of one example's input [C, H, W]: the deterministic functions (crop, hflip, cutout,
// to_float, normalize), and the Transform objects a DataLoader runs in its workers, which draw
// their random parameters from the sample's RandomStream.
#pragma once

#include <initializer_list>
#include <memory>
#include <vector>

#include "core/tensor.h"
#include "data/random.h"

namespace nabla::data {

// How crop fills the border it adds: zeros, or the image mirrored about its edge without
// repeating the edge (PyTorch's "reflect": padded row -1 is row 1).
enum class Padding { zero, reflect };

// x: [C, H, W] of any dtype -> [C, height, width], the window whose top-left corner is at (top,
// left) in x padded by `padding` on every side. Reflect padding needs padding < H and < W.
Tensor crop(const Tensor& x, int64_t top, int64_t left, int64_t height, int64_t width,
            int64_t padding = 0, Padding mode = Padding::zero);
// x: [C, H, W] mirrored left to right.
Tensor hflip(const Tensor& x);
// A copy of x: [C, H, W] with the size x size square whose centre is (center_y, center_x),
// rows center_y - size / 2 onwards, clipped to the image, set to `value` (DeVries & Taylor 2017).
Tensor cutout(const Tensor& x, int64_t center_y, int64_t center_x, int64_t size, double value = 0);
// uint8 -> float32 scaled to [0, 1] (divided by 255, like torchvision's ToTensor); float32 as it
// is; other dtypes cast to float32.
Tensor to_float(const Tensor& x);
// x: float32 [C, ...] -> (x - mean[c]) / std[c] per channel c; one mean and std apply to every
// channel.
Tensor normalize(const Tensor& x, const std::vector<float>& mean, const std::vector<float>& std);

// A transform of one input. Transforms are shared by the loader's worker threads, so operator()
// is const and must not change the object; a random transform takes every draw from `random`.
class Transform {
 public:
  virtual ~Transform() = default;
  virtual Tensor operator()(const Tensor& x, RandomStream& random) const = 0;
};

using TransformPtr = std::shared_ptr<const Transform>;

// Applies its transforms in order.
class Compose : public Transform {
 public:
  explicit Compose(std::vector<TransformPtr> transforms);
  Tensor operator()(const Tensor& x, RandomStream& random) const override;

 private:
  std::vector<TransformPtr> transforms_;
};

// compose({std::make_shared<RandomCrop>(32, 4), std::make_shared<ToFloat>()})
TransformPtr compose(std::initializer_list<TransformPtr> transforms);

class ToFloat : public Transform {
 public:
  Tensor operator()(const Tensor& x, RandomStream& random) const override;
};

class Normalize : public Transform {
 public:
  // One entry per channel, or one for all; every std > 0.
  Normalize(std::vector<float> mean, std::vector<float> std);
  Tensor operator()(const Tensor& x, RandomStream& random) const override;

 private:
  std::vector<float> mean_, std_;
};

// A height x width window at a uniformly random offset of the padded image.
class RandomCrop : public Transform {
 public:
  explicit RandomCrop(int64_t size, int64_t padding = 0, Padding mode = Padding::zero)
      : RandomCrop(size, size, padding, mode) {}
  RandomCrop(int64_t height, int64_t width, int64_t padding, Padding mode);
  Tensor operator()(const Tensor& x, RandomStream& random) const override;

 private:
  int64_t height_, width_, padding_;
  Padding mode_;
};

// Mirrors left to right with probability p.
class RandomHorizontalFlip : public Transform {
 public:
  explicit RandomHorizontalFlip(double p = 0.5);
  Tensor operator()(const Tensor& x, RandomStream& random) const override;

 private:
  double p_;
};

// With probability p, fills a size x size square centred at a uniformly random pixel (clipped to
// the image) with `value`.
class Cutout : public Transform {
 public:
  explicit Cutout(int64_t size, double p = 1.0, double value = 0);
  Tensor operator()(const Tensor& x, RandomStream& random) const override;

 private:
  int64_t size_;
  double p_, value_;
};

}  // namespace nabla::data
