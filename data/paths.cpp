// Dataset search: roots in order, the official folder before any stand-in, and an error that
// says where it looked.
#include "data/paths.h"

#include <cstdlib>
#include <sstream>

#include "core/error.h"
#include "data/cifar.h"
#include "data/idx.h"

namespace nabla::data {

namespace {

constexpr const char* kCifarUrl = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
constexpr const char* kFashionUrl = "https://github.com/zalandoresearch/fashion-mnist";
constexpr const char* kDebianFashionDir = "/usr/share/datasets/fashion-mnist";

// The files of `dir` that are missing (alternatives joined by " or "), empty when it is complete.
std::vector<std::string> missing_files(const std::filesystem::path& dir,
                                       const std::vector<std::vector<std::string>>& files) {
  std::vector<std::string> missing;
  for (const std::vector<std::string>& alternatives : files) {
    bool found = false;
    for (const std::string& f : alternatives) found = found || std::filesystem::exists(dir / f);
    if (!found) {
      std::string names;
      for (const std::string& f : alternatives) names += (names.empty() ? "" : " or ") + f;
      missing.push_back(names);
    }
  }
  return missing;
}

// "no such folder", or the files it lacks; empty when `dir` holds every file.
std::string why_not(const std::filesystem::path& dir,
                    const std::vector<std::vector<std::string>>& files) {
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error)) return "no such folder";
  std::vector<std::string> missing = missing_files(dir, files);
  if (missing.empty()) return "";
  std::string text = "lacks ";
  for (size_t i = 0; i < missing.size(); ++i) text += (i ? ", " : "") + missing[i];
  return text;
}

std::string shown(const std::filesystem::path& path) {
  std::error_code error;
  std::filesystem::path absolute = std::filesystem::absolute(path, error);
  return error ? path.string() : absolute.lexically_normal().string();
}

const std::vector<std::vector<std::string>>& cifar10_files() {
  static const std::vector<std::vector<std::string>> files = {
      {"data_batch_1.bin"}, {"data_batch_2.bin"}, {"data_batch_3.bin"},
      {"data_batch_4.bin"}, {"data_batch_5.bin"}, {"test_batch.bin"}};
  return files;
}

const std::vector<std::vector<std::string>>& fashion_mnist_files() {
  static const std::vector<std::vector<std::string>> files = [] {
    std::vector<std::vector<std::string>> f;
    for (const char* stem : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"})
      f.push_back({stem, std::string(stem) + ".gz"});
    return f;
  }();
  return files;
}

// Which of --data and $NABLA_DATA were not given, for the not-found message.
std::string unused_roots(const std::string& data_dir) {
  std::string text;
  if (data_dir.empty()) text += "  --data: not given\n";
  const char* env = std::getenv("NABLA_DATA");
  if (!env || !*env) text += "  $NABLA_DATA: not set\n";
  return text;
}

}  // namespace

std::vector<DataRoot> data_roots(const std::string& data_dir) {
  std::vector<DataRoot> roots;
  if (!data_dir.empty()) roots.push_back({data_dir, "--data"});
  if (const char* env = std::getenv("NABLA_DATA"); env && *env)
    roots.push_back({env, "$NABLA_DATA"});
  roots.push_back({"data", "./data"});
  roots.push_back({std::filesystem::path("..") / "shared" / "data", "../shared/data"});
  return roots;
}

DatasetLocation find_cifar10(const std::string& data_dir) {
  std::ostringstream looked;
  looked << unused_roots(data_dir);
  const std::vector<DataRoot> roots = data_roots(data_dir);
  for (const char* folder : {"cifar-10-batches-bin", "cifar-10-subset"}) {
    for (const DataRoot& root : roots) {
      const std::filesystem::path dir = root.path / folder;
      std::string reason = why_not(dir, cifar10_files());
      if (reason.empty()) return {dir, std::string(folder) == "cifar-10-subset"};
      looked << "  " << root.origin << ": " << shown(dir) << ": " << reason << "\n";
    }
  }
  throw IOError(detail::concat(
      "find_cifar10: CIFAR-10 not found; looked for cifar-10-batches-bin/, then cifar-10-subset/, "
      "in each data folder:\n",
      looked.str(), "Get it with `make data` (downloads ", kCifarUrl,
      " into ./data/ and extracts cifar-10-batches-bin/), or download and extract that archive "
      "into a folder and pass it with --data DIR or $NABLA_DATA."));
}

std::string Cifar10::summary() const {
  std::ostringstream os;
  os << "CIFAR-10" << (subset ? " SUBSET" : "") << ": " << train.size() << " train + "
     << test.size() << " test images from " << shown(dir);
  if (subset)
    os << " (only a subset: the full set has " << 5 * kCifarRecordsPerBatch << " + "
       << kCifarRecordsPerBatch << "; run `make data` to get it)";
  return os.str();
}

Cifar10 load_cifar10(const std::string& data_dir) {
  DatasetLocation where = find_cifar10(data_dir);
  Cifar10 out{read_cifar10(where.dir, Split::train), read_cifar10(where.dir, Split::test),
              where.dir, where.subset};
  out.subset = out.subset || out.train.size() < 5 * kCifarRecordsPerBatch ||
               out.test.size() < kCifarRecordsPerBatch;
  return out;
}

std::filesystem::path find_fashion_mnist(const std::string& data_dir) {
  std::ostringstream looked;
  looked << unused_roots(data_dir);
  std::vector<std::pair<std::filesystem::path, std::string>> candidates;
  for (const DataRoot& root : data_roots(data_dir))
    candidates.push_back({root.path / "fashion-mnist", root.origin});
  candidates.push_back({kDebianFashionDir, "Debian's dataset-fashion-mnist"});
  for (const auto& [dir, origin] : candidates) {
    std::string reason = why_not(dir, fashion_mnist_files());
    if (reason.empty()) return dir;
    looked << "  " << origin << ": " << shown(dir) << ": " << reason << "\n";
  }
  throw IOError(detail::concat(
      "find_fashion_mnist: Fashion-MNIST not found; looked in:\n", looked.str(),
      "Install Debian's package (apt-get install dataset-fashion-mnist; `make deps` does), or "
      "download the four IDX files from ",
      kFashionUrl, " into <data folder>/fashion-mnist/."));
}

std::string FashionMnist::summary() const {
  std::ostringstream os;
  os << "Fashion-MNIST: " << train.size() << " train + " << test.size() << " test images from "
     << shown(dir);
  return os.str();
}

FashionMnist load_fashion_mnist(const std::string& data_dir) {
  std::filesystem::path dir = find_fashion_mnist(data_dir);
  return {read_fashion_mnist(dir, Split::train), read_fashion_mnist(dir, Split::test), dir};
}

}  // namespace nabla::data
