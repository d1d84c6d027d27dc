// The demo's data: training, validation and test rows from Fashion-MNIST. Training and
// validation images are disjoint draws from the training file, so that tuning never sees a test
// image.
#pragma once

#include <cstdint>
#include <string>

#include "core/dtype.h"
#include "unrolled.h"

namespace nabla::hypergradient {

struct SplitSizes {
  int64_t train = 200;
  int64_t val = 1000;
  int64_t test = 10000;  // the first images of the test file
};

struct FashionSplits {
  Split train, val, test;
  std::string summary;  // where the images came from, and how many of each
};

// Training and validation rows from one seeded permutation of the 60,000 training images, test
// rows from the test file; pixels standardized with the training rows' mean and deviation, as
// `dtype` rows [N, 784].
FashionSplits load_fashion_splits(const std::string& data_dir, const SplitSizes& sizes,
                                  uint64_t seed, DType dtype);

}  // namespace nabla::hypergradient
