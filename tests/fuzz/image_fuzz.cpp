// Fuzz target: decode_image (stb_image's PNG, JPEG and BMP decoders behind nabla's header and
// size checks) over arbitrary bytes. Malformed input must end in a nabla::Error; anything else is
// a bug.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "data/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A limit below the default keeps each run fast and within the fuzzer's memory limit.
  const nabla::data::ImageOptions options{.max_width = 1024, .max_height = 1024};
  try {
    nabla::data::decode_image({data, size}, "fuzz input", options);
  } catch (const nabla::Error&) {
  }
  return 0;
}
