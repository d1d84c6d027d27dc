#include "datasets.h"

#include <cmath>
#include <filesystem>
#include <numeric>
#include <sstream>
#include <tuple>

namespace nabla::train {

namespace {

namespace fs = std::filesystem;

struct Splits {
  data::LabeledImages train, test;
  std::string summary;
};

// The first <root>/cifar-100-binary/ holding train.bin and test.bin.
Splits read_cifar100_splits(const std::string& data_dir) {
  std::string looked;
  for (const data::DataRoot& root : data::data_roots(data_dir)) {
    const fs::path dir = root.path / "cifar-100-binary";
    if (fs::is_regular_file(dir / "train.bin") && fs::is_regular_file(dir / "test.bin")) {
      Splits s{data::read_cifar100(dir, data::Split::train),
               data::read_cifar100(dir, data::Split::test), ""};
      s.summary = "CIFAR-100: " + std::to_string(s.train.size()) + " train + " +
                  std::to_string(s.test.size()) + " test images from " + dir.string();
      return s;
    }
    looked += "\n  " + dir.string() + " (" + root.origin + ")";
  }
  NABLA_CHECK(false, IOError,
              "CIFAR-100 not found; looked for cifar-100-binary/train.bin and "
              "test.bin in:",
              looked,
              "\nDownload cifar-100-binary.tar.gz from "
              "https://www.cs.toronto.edu/~kriz/cifar.html and unpack it in one of them");
  return {};
}

// --data DIR holding train/<class>/* and test/<class>/* (or val/ for test).
Splits read_image_folder_splits(const std::string& data_dir) {
  NABLA_CHECK(!data_dir.empty(), ValueError,
              "--dataset imagefolder needs --data DIR, a folder holding train/ and test/, each "
              "with one subfolder of images per class");
  const fs::path root(data_dir);
  fs::path test = root / "test";
  if (!fs::is_directory(test) && fs::is_directory(root / "val")) test = root / "val";
  NABLA_CHECK(fs::is_directory(root / "train") && fs::is_directory(test), IOError, "--data: '",
              data_dir,
              "' must hold train/ and test/ (or val/), each with one subfolder per class");
  Splits s{data::read_image_folder(root / "train"), data::read_image_folder(test), ""};
  NABLA_CHECK(s.train.classes == s.test.classes, IOError, "--data: the classes of ",
              (root / "train").string(), " and ", test.string(), " differ");
  const Shape& a = s.train.images.shape();
  const Shape& b = s.test.images.shape();
  NABLA_CHECK(Shape(a.begin() + 1, a.end()) == Shape(b.begin() + 1, b.end()), IOError,
              "--data: the training images are ", Shape(a.begin() + 1, a.end()),
              " but the test images are ", Shape(b.begin() + 1, b.end()));
  s.summary = "image folder: " + std::to_string(s.train.size()) + " train + " +
              std::to_string(s.test.size()) + " test images of " +
              std::to_string(s.train.classes.size()) + " classes from " + root.string();
  return s;
}

Splits read_splits(const TrainConfig& config) {
  if (config.dataset == "cifar10") {
    data::Cifar10 cifar = data::load_cifar10(config.data_dir);
    std::string summary = cifar.summary();
    return {std::move(cifar.train), std::move(cifar.test), std::move(summary)};
  }
  if (config.dataset == "cifar100") return read_cifar100_splits(config.data_dir);
  if (config.dataset == "fashion-mnist") {
    data::FashionMnist fashion = data::load_fashion_mnist(config.data_dir);
    std::string summary = fashion.summary();
    return {std::move(fashion.train), std::move(fashion.test), std::move(summary)};
  }
  if (config.dataset == "imagefolder") return read_image_folder_splits(config.data_dir);
  NABLA_CHECK(false, ValueError, "--dataset: unknown dataset '", config.dataset,
              "'; known: cifar10, cifar100, fashion-mnist, imagefolder");
  return {};
}

// The IDX readers give [N, H, W]; the models and transforms want [N, C, H, W].
Tensor with_channels(const Tensor& images) {
  return images.dim() == 3 ? unsqueeze(images, 1) : images;
}

std::shared_ptr<const data::Dataset> first_examples(std::shared_ptr<const data::Dataset> dataset,
                                                    int64_t count) {
  std::vector<int64_t> first(static_cast<size_t>(count));
  std::iota(first.begin(), first.end(), int64_t{0});
  return std::make_shared<data::Subset>(std::move(dataset), std::move(first));
}

// Per-channel mean and standard deviation of uint8 images [N, C, H, W], scaled to [0, 1].
std::pair<std::vector<float>, std::vector<float>> channel_stats(const Tensor& images) {
  Tensor x = contiguous(images);
  const int64_t n = x.size(0), c = x.size(1), plane = x.size(2) * x.size(3);
  const uint8_t* p = x.data<uint8_t>();
  std::vector<float> mean(c), std(c);
  for (int64_t ch = 0; ch < c; ++ch) {
    double sum = 0, square = 0;
    for (int64_t i = 0; i < n; ++i) {
      const uint8_t* q = p + (i * c + ch) * plane;
      for (int64_t j = 0; j < plane; ++j) {
        sum += q[j];
        square += double(q[j]) * q[j];
      }
    }
    const double count = double(n * plane), m = sum / count;
    mean[ch] = float(m / 255);
    std[ch] = float(std::sqrt(std::max(square / count - m * m, 1e-12)) / 255);
  }
  return {mean, std};
}

}  // namespace

TrainingData load_training_data(const TrainConfig& config) {
  NABLA_CHECK(config.data_dir.empty() || fs::is_directory(config.data_dir), IOError, "--data: '",
              config.data_dir, "' is not a folder");
  Splits splits = read_splits(config);
  splits.train.images = with_channels(splits.train.images);
  splits.test.images = with_channels(splits.test.images);
  const Shape& shape = splits.train.images.shape();
  NABLA_CHECK(shape[2] == shape[3], ValueError,
              "the models take square images; the training "
              "images are ",
              shape[2], "x", shape[3]);

  TrainingData d;
  d.classes = splits.train.classes;
  d.channels = shape[1];
  d.image_size = shape[2];
  std::ostringstream summary;
  summary << splits.summary;

  // Normalization from the training images (CIFAR-10's usual constants for CIFAR-10).
  std::tie(d.mean, d.std) = config.dataset == "cifar10"
                                ? std::pair{data::kCifar10Mean, data::kCifar10Std}
                                : channel_stats(splits.train.images);
  // The CIFAR recipe: a crop of the image padded by an eighth of its size, and a mirror image.
  if (config.augment)
    d.augmentation = data::compose(
        {std::make_shared<data::RandomCrop>(d.image_size, d.image_size / 8, data::Padding::reflect),
         std::make_shared<data::RandomHorizontalFlip>()});

  std::shared_ptr<const data::Dataset> train = splits.train.dataset();
  if (config.train_images > 0 && config.train_images < train->size()) {
    train = first_examples(train, config.train_images);
    summary << "\nusing the first " << config.train_images << " training images";
  }
  if (config.validation > 0) {
    const int64_t held = std::llround(config.validation * double(train->size()));
    NABLA_CHECK(held > 0 && held < train->size(), ValueError, "--validation ", config.validation,
                " of ", train->size(), " images leaves an empty split");
    auto parts = data::random_split(train, {train->size() - held, held}, config.seed);
    train = parts[0];
    d.validation = parts[1];
    summary << "\nholding out " << held << " training images for validation";
  }
  d.train = std::move(train);
  d.test = splits.test.dataset();
  if (config.test_images > 0 && config.test_images < d.test->size()) {
    d.test = first_examples(d.test, config.test_images);
    summary << "\nevaluating on the first " << config.test_images << " test images only";
  }
  d.summary = summary.str();
  return d;
}

}  // namespace nabla::train
