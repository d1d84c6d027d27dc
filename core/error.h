// The error family every nabla failure is reported through, and the check macros that build
// messages.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace nabla {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ShapeError : public Error {
  using Error::Error;
};
class DTypeError : public Error {
  using Error::Error;
};
class DeviceError : public Error {
  using Error::Error;
};
class IndexError : public Error {
  using Error::Error;
};
class ValueError : public Error {
  using Error::Error;
};
class IOError : public Error {
  using Error::Error;
};
// Misuse of the autograd graph: a second backward through freed buffers, a saved tensor changed in
// place.
class AutogradError : public Error {
  using Error::Error;
};

namespace detail {
template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  return os.str();
}
}  // namespace detail

}  // namespace nabla

// NABLA_CHECK(cond, ShapeError, "matmul: shapes ", a, " and ", b, ...) throws nabla::ShapeError
// with the parts streamed together. Use it for anything a caller can get wrong.
#define NABLA_CHECK(cond, ErrorType, ...)                             \
  do {                                                                \
    if (!(cond)) [[unlikely]]                                         \
      throw ::nabla::ErrorType(::nabla::detail::concat(__VA_ARGS__)); \
  } while (0)

// NABLA_ASSERT guards nabla's own invariants; a failure is a bug in nabla, reported, never an
// abort.
#define NABLA_ASSERT(cond)                                                                   \
  do {                                                                                       \
    if (!(cond)) [[unlikely]]                                                                \
      throw ::nabla::Error(::nabla::detail::concat("internal error: ", #cond, " failed at ", \
                                                   __FILE__, ":", __LINE__));                \
  } while (0)
