// Fashion-MNIST rows for the demo (fashion_splits.h).
#include "fashion_splits.h"

#include <cmath>
#include <numeric>
#include <vector>

#include "autograd/ops.h"
#include "core/creation.h"
#include "core/error.h"
#include "data/paths.h"
#include "data/random.h"

namespace nabla::hypergradient {
namespace {

// images [N, 1, 28, 28] uint8 -> [N, 784] in `dtype`, scaled to [0, 1].
Tensor pixel_rows(const Tensor& images, DType dtype) {
  return reshape(to(images, dtype), {images.size(0), -1}) / 255.0;
}

}  // namespace

FashionSplits load_fashion_splits(const std::string& data_dir, const SplitSizes& sizes,
                                  uint64_t seed, DType dtype) {
  data::FashionMnist fashion = data::load_fashion_mnist(data_dir);
  const int64_t available = fashion.train.size();
  NABLA_CHECK(sizes.train > 0 && sizes.val > 0 && sizes.train + sizes.val <= available, ValueError,
              "load_fashion_splits: ", sizes.train, " training and ", sizes.val,
              " validation images asked for; both must be positive and together at most the ",
              available, " training images");
  NABLA_CHECK(sizes.test > 0 && sizes.test <= fashion.test.size(), ValueError,
              "load_fashion_splits: ", sizes.test, " test images asked for; the test file has ",
              fashion.test.size());

  std::vector<int64_t> order(static_cast<size_t>(available));
  std::iota(order.begin(), order.end(), 0);
  data::RandomStream random = data::RandomStream::for_shuffle(seed, 0);
  data::shuffle(order.data(), available, random);
  auto draw = [&](int64_t begin, int64_t count) {
    Tensor index =
        from_vector(std::vector<int64_t>(order.begin() + begin, order.begin() + begin + count));
    return Split{pixel_rows(index_select(fashion.train.images, 0, index), dtype),
                 index_select(fashion.train.labels, 0, index)};
  };
  FashionSplits s;
  s.train = draw(0, sizes.train);
  s.val = draw(sizes.train, sizes.val);
  s.test = {pixel_rows(slice(fashion.test.images, 0, 0, sizes.test), dtype),
            slice(fashion.test.labels, 0, 0, sizes.test)};

  // Each pixel centred on its training mean, then all scaled by one deviation: the centring removes
  // the mean image, the direction that dominates the uncentred features' curvature.
  const Tensor mean = nabla::mean(s.train.x, {0}, true);  // [1, 784]
  const double deviation = std::sqrt(nabla::mean(square(s.train.x - mean)).item());
  for (Split* split : {&s.train, &s.val, &s.test}) split->x = (split->x - mean) / deviation;
  s.summary = fashion.summary() + "; " + std::to_string(sizes.train) + " training and " +
              std::to_string(sizes.val) + " validation images drawn from the training file (seed " +
              std::to_string(seed) + "), the first " + std::to_string(sizes.test) + " test images";
  return s;
}

}  // namespace nabla::hypergradient
