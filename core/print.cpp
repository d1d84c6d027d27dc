// Printing tensors the way PyTorch does: aligned columns, four decimals or scientific notation
// when magnitudes differ widely, "..." past 1000 elements, then the shape and dtype.
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "core/autograd_meta.h"
#include "core/ops.h"

namespace nabla {

namespace {

constexpr int64_t kSummarizeAbove = 1000;
constexpr int64_t kEdgeItems = 3;

struct Formatter {
  DType dtype;
  bool integral_values = true;  // floating values that are all whole print as "3."
  bool scientific = false;
  size_t width = 1;

  std::string format(double v) const {
    std::ostringstream os;
    if (dtype == kBool) {
      os << (v != 0 ? "true" : "false");
    } else if (!is_floating(dtype)) {
      os << static_cast<int64_t>(v);
    } else if (!std::isfinite(v)) {
      os << (std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf"));
    } else if (scientific) {
      os << std::scientific << std::setprecision(4) << v;
    } else if (integral_values) {
      os << std::fixed << std::setprecision(0) << v << '.';
    } else {
      os << std::fixed << std::setprecision(4) << v;
    }
    return os.str();
  }
};

// The indices printed along a dim: all of them, or the first and last few with a gap (-1).
std::vector<int64_t> shown(int64_t size, bool summarize) {
  std::vector<int64_t> out;
  if (!summarize || size <= 2 * kEdgeItems) {
    for (int64_t i = 0; i < size; ++i) out.push_back(i);
    return out;
  }
  for (int64_t i = 0; i < kEdgeItems; ++i) out.push_back(i);
  out.push_back(-1);
  for (int64_t i = size - kEdgeItems; i < size; ++i) out.push_back(i);
  return out;
}

void print_block(std::ostream& os, const std::vector<double>& values, const Shape& shape,
                 int64_t dim, int64_t base, const Formatter& f, bool summarize, size_t indent) {
  if (dim == static_cast<int64_t>(shape.size())) {
    os << std::setw(static_cast<int>(f.width)) << f.format(values[base]);
    return;
  }
  int64_t stride = 1;
  for (size_t d = dim + 1; d < shape.size(); ++d) stride *= shape[d];
  const bool last_dim = dim + 1 == static_cast<int64_t>(shape.size());
  // Rows of a matrix go on new lines, aligned under the first; matrices get blank lines between.
  std::string between = ",";
  if (last_dim) {
    between += ' ';
  } else {
    between.append(shape.size() - dim - 1, '\n');
    between.append(indent + dim + 1, ' ');
  }
  os << '[';
  bool first = true;
  for (int64_t i : shown(shape[dim], summarize)) {
    if (!first) os << between;
    first = false;
    if (i < 0) {
      os << "...";
      continue;
    }
    print_block(os, values, shape, dim + 1, base + i * stride, f, summarize, indent);
  }
  os << ']';
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (!t.defined()) return os << "tensor(undefined)";
  std::vector<double> values = t.to_vector<double>();
  Formatter f{t.dtype()};
  const bool summarize = t.numel() > kSummarizeAbove;
  double lo = INFINITY, hi = 0;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    f.integral_values = f.integral_values && std::nearbyint(v) == v;
    if (v != 0) lo = std::min(lo, std::abs(v)), hi = std::max(hi, std::abs(v));
  }
  f.scientific = is_floating(t.dtype()) && hi > 0 &&
                 (hi / lo > 1000 || hi > 1e8 || (!f.integral_values && lo < 1e-4));
  for (double v : values) f.width = std::max(f.width, f.format(v).size());

  const std::string prefix = "tensor(";
  os << prefix;
  if (t.dim() == 0) {
    os << f.format(values[0]);
  } else {
    print_block(os, values, t.shape(), 0, 0, f, summarize, prefix.size());
  }
  os << ", shape=" << t.shape() << ", dtype=" << t.dtype();
  if (!t.device().is_cpu()) os << ", device=" << t.device();
  if (t.requires_grad()) os << ", requires_grad=true";
  return os << ')';
}

}  // namespace nabla
