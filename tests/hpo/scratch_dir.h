// A fresh directory under the system's temporary one for a test's files, removed with everything
// in it when the object goes.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>

namespace nabla::hpo::testing {

class ScratchDir {
 public:
  ScratchDir() {
    std::random_device device;
    path_ = std::filesystem::temp_directory_path() /
            ("nabla-hpo-" + std::to_string(getpid()) + "-" + std::to_string(device()));
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // A path in the directory no earlier call returned.
  std::string file(const std::string& stem, const std::string& extension = ".db") {
    return (path_ / (stem + "-" + std::to_string(count_++) + extension)).string();
  }

 private:
  std::filesystem::path path_;
  int count_ = 0;
};

}  // namespace nabla::hpo::testing
