// Whole-file reads for the readers.
#include "data/io.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "core/error.h"

namespace nabla::data {

namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

File open(const std::filesystem::path& path, const char* op) {
  File f(std::fopen(path.c_str(), "rb"));
  NABLA_CHECK(f != nullptr, IOError, op, ": cannot open '", path.string(),
              "': ", std::strerror(errno));
  return f;
}

}  // namespace

uint64_t file_size(const std::filesystem::path& path, const char* op) {
  std::error_code error;
  NABLA_CHECK(std::filesystem::is_regular_file(path, error), IOError, op, ": '", path.string(),
              "' ",
              std::filesystem::exists(path, error) ? "is not a regular file" : "does not exist");
  uint64_t size = std::filesystem::file_size(path, error);
  NABLA_CHECK(!error, IOError, op, ": cannot read the size of '", path.string(),
              "': ", error.message());
  return size;
}

void read_file_into(const std::filesystem::path& path, void* out, uint64_t size, const char* op) {
  File f = open(path, op);
  size_t got = std::fread(out, 1, size, f.get());
  NABLA_CHECK(got == size, IOError, op, ": '", path.string(), "' ended after ", got, " of ", size,
              " bytes", std::ferror(f.get()) ? " (read error)" : "");
}

std::vector<uint8_t> read_file(const std::filesystem::path& path, const char* op) {
  std::vector<uint8_t> bytes(file_size(path, op));
  read_file_into(path, bytes.data(), bytes.size(), op);
  return bytes;
}

std::vector<std::string> read_lines(const std::filesystem::path& path, const char* op) {
  std::vector<uint8_t> bytes = read_file(path, op);
  std::vector<std::string> lines;
  std::string line;
  auto flush = [&] {
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    if (!line.empty()) lines.push_back(line);
    line.clear();
  };
  for (uint8_t b : bytes) {
    if (b == '\n')
      flush();
    else
      line.push_back(static_cast<char>(b));
  }
  flush();
  return lines;
}

}  // namespace nabla::data
