// Fuzz target: the CIFAR-10 and CIFAR-100 record parsers over arbitrary bytes. Malformed input
// must end in a nabla::Error; anything else is a bug.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "data/cifar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nabla::data;
  try {
    parse_cifar10({data, size}, "fuzz input");
  } catch (const nabla::Error&) {
  }
  try {
    parse_cifar100({data, size}, "fuzz input", Cifar100Label::coarse);
  } catch (const nabla::Error&) {
  }
  return 0;
}
