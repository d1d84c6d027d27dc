// A fresh directory for tests that write files, removed with its contents afterwards, and helpers
// to read and write whole files. Shared by the test modules.
#pragma once

#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace nabla::testing {

class ScratchDir {
 public:
  // disk: the system's temporary directory. memory: /dev/shm where there is one, so that tests
  // making thousands of database commits (hpo's SQLite storage) check logic, not the disk's fsync.
  enum class Place { disk, memory };

  explicit ScratchDir(Place place = Place::disk) {
    std::error_code no_shm;
    const bool shm = place == Place::memory && std::filesystem::is_directory("/dev/shm", no_shm);
    const auto root =
        shm ? std::filesystem::path("/dev/shm") : std::filesystem::temp_directory_path();
    std::string pattern = (root / "nabla_test_XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  const std::filesystem::path& path() const { return path_; }
  // A path in the directory no earlier call returned.
  std::string file(const std::string& stem, const std::string& extension = ".db") {
    return (path_ / (stem + "-" + std::to_string(count_++) + extension)).string();
  }

  // The names in the directory, sorted: what a failed write must not have left behind.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(path_))
      names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  std::filesystem::path path_;
  int count_ = 0;
};

inline std::vector<uint8_t> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_file(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

}  // namespace nabla::testing
