// Indexing ops: gather, scatter_add, index_select, index_add. Every index is checked against the
// size it indexes before any kernel reads memory through it.
#include "core/checks.h"
#include "core/ops.h"

namespace nabla::core {

namespace {

void check_index_values(const Tensor& index, int64_t size, const char* op) {
  check_index_dtype(index, op);
  if (index.numel() == 0) return;
  int64_t lo = reduce(ReduceOp::min, index, {}, false).item<int64_t>();
  int64_t hi = reduce(ReduceOp::max, index, {}, false).item<int64_t>();
  NABLA_CHECK(lo >= 0 && hi < size, IndexError, op, ": index ", lo < 0 ? lo : hi,
              " is out of range for a dim of size ", size);
}

// gather and scatter_add: index matches the data's rank and fits inside it off the indexed dim.
void check_index_shape(const Tensor& data, const Tensor& index, int64_t dim, const char* op,
                       const char* data_name) {
  NABLA_CHECK(index.dim() == data.dim(), ShapeError, op, ": index ", index.shape(), " and ",
              data_name, " ", data.shape(), " must have the same number of dims");
  for (int64_t d = 0; d < data.dim(); ++d)
    NABLA_CHECK(d == dim || index.size(d) <= data.size(d), ShapeError, op, ": index ",
                index.shape(), " is larger than ", data_name, " ", data.shape(), " in dim ", d);
}

}  // namespace

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  check_same_device(x, index, "gather");
  NABLA_CHECK(x.dim() > 0, ShapeError, "gather: needs a tensor of at least 1 dim");
  dim = wrap_dim(dim, x.dim(), "gather");
  check_index_shape(x, index, dim, "gather", "input");
  check_index_values(index, x.size(dim), "gather");
  Tensor out = empty(index.shape(), {.dtype = x.dtype(), .device = x.device()});
  backend(x.device()).gather(x, dim, index, out);
  return out;
}

Tensor scatter_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  check_same_device(self, index, "scatter_add");
  check_same_device(self, src, "scatter_add");
  NABLA_CHECK(self.dim() > 0, ShapeError, "scatter_add: needs a tensor of at least 1 dim");
  dim = wrap_dim(dim, self.dim(), "scatter_add");
  check_index_shape(self, index, dim, "scatter_add", "self");
  NABLA_CHECK(src.dim() == index.dim(), ShapeError, "scatter_add: src ", src.shape(), " and index ",
              index.shape(), " must have the same number of dims");
  for (int64_t d = 0; d < src.dim(); ++d)
    NABLA_CHECK(index.size(d) <= src.size(d), ShapeError, "scatter_add: index ", index.shape(),
                " is larger than src ", src.shape(), " in dim ", d);
  check_index_values(index, self.size(dim), "scatter_add");
  Tensor out = clone(self);
  backend(self.device()).scatter_add(out, dim, index, to(src, self.dtype()));
  return out;
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  check_same_device(x, index, "index_select");
  NABLA_CHECK(x.dim() > 0, ShapeError, "index_select: needs a tensor of at least 1 dim");
  dim = wrap_dim(dim, x.dim(), "index_select");
  check_dim(index, 1, "index_select", "index");
  check_index_values(index, x.size(dim), "index_select");
  Shape shape = x.shape();
  shape[dim] = index.size(0);
  Tensor out = empty(shape, {.dtype = x.dtype(), .device = x.device()});
  backend(x.device()).index_select(x, dim, index, out);
  return out;
}

Tensor index_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  check_same_device(self, index, "index_add");
  check_same_device(self, src, "index_add");
  NABLA_CHECK(self.dim() > 0, ShapeError, "index_add: needs a tensor of at least 1 dim");
  dim = wrap_dim(dim, self.dim(), "index_add");
  check_dim(index, 1, "index_add", "index");
  Shape expected = self.shape();
  expected[dim] = index.size(0);
  NABLA_CHECK(src.shape() == expected, ShapeError, "index_add: src has shape ", src.shape(),
              " but self ", self.shape(), " with ", index.size(0), " indices along dim ", dim,
              " needs ", expected);
  check_index_values(index, self.size(dim), "index_add");
  Tensor out = clone(self);
  backend(self.device()).index_add(out, dim, index, to(src, self.dtype()));
  return out;
}

}  // namespace nabla::core
