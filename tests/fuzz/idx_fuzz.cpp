// Fuzz target: parse_idx over arbitrary bytes, plain and gzip. Malformed input must end in a
// nabla::Error; anything else (a crash, a sanitizer report, another exception) is a bug.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "data/idx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    nabla::data::parse_idx({data, size}, "fuzz input");
  } catch (const nabla::Error&) {
  }
  return 0;
}
