// A fresh directory for a test's files, removed with everything in it when the object goes.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>

namespace nabla::hpo::testing {

class ScratchDir {
 public:
  // memory: in /dev/shm where there is one, so that the SQLite tests' thousands of commits check
  // logic, not the disk's fsync (milliseconds each on a busy machine); disk: the system's temporary
  // directory, for measurements.
  enum class Place { memory, disk };

  explicit ScratchDir(Place place = Place::memory) {
    std::random_device device;
    std::error_code no_shm;
    const bool shm = place == Place::memory && std::filesystem::is_directory("/dev/shm", no_shm);
    path_ = (shm ? std::filesystem::path("/dev/shm") : std::filesystem::temp_directory_path()) /
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
