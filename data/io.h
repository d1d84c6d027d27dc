// File and byte helpers shared by the readers: whole-file reads with errors that name the file,
// and the big-endian integers binary formats store.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace nabla::data {

// The size of a regular file; IOError naming `op` and the file when it is missing or not a file.
uint64_t file_size(const std::filesystem::path& path, const char* op);
// The whole file; IOError naming `op`, the file and the reason when it cannot be read.
std::vector<uint8_t> read_file(const std::filesystem::path& path, const char* op);
// Reads exactly `size` bytes from the start of the file into `out`.
void read_file_into(const std::filesystem::path& path, void* out, uint64_t size, const char* op);
// The file's lines without trailing whitespace, empty lines left out.
std::vector<std::string> read_lines(const std::filesystem::path& path, const char* op);

inline uint32_t load_big_endian32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

}  // namespace nabla::data
