// Matrix decompositions on the CPU through LAPACK: eigh.
#include <limits>
#include <vector>

#include "core/checks.h"
#include "core/cpu/lapack.h"
#include "core/ops.h"

namespace nabla::core {

namespace {

template <class T>
std::pair<Tensor, Tensor> eigh_typed(const Tensor& a) {
  const int64_t n = a.size(0);
  // LAPACK is column-major; the lower triangle it reads is, in our row-major copy, the upper
  // one, and the same numbers for the symmetric matrix it expects.
  Tensor vectors = clone(a);
  Tensor values = empty({n}, {.dtype = a.dtype()});
  if (n == 0) return {values, vectors};
  const int size = static_cast<int>(n);
  int info = 0, liwork = -1;
  T work_size = 0;
  cpu::syevd(size, vectors.data<T>(), values.data<T>(), &work_size, -1, &liwork, -1, &info);
  std::vector<T> work(static_cast<size_t>(work_size));
  std::vector<int> iwork(static_cast<size_t>(liwork));
  cpu::syevd(size, vectors.data<T>(), values.data<T>(), work.data(), int(work.size()), iwork.data(),
             int(iwork.size()), &info);
  NABLA_CHECK(info == 0, Error, "eigh: LAPACK's ", sizeof(T) == 4 ? "ssyevd" : "dsyevd",
              " did not converge (info ", info, ") for a ", n, "x", n, " matrix");
  // Column j of LAPACK's result is eigenvector j; read row-major, that is the transpose.
  return {values, contiguous(transpose(vectors, 0, 1))};
}

}  // namespace

std::pair<Tensor, Tensor> eigh(const Tensor& a) {
  NABLA_CHECK(a.dim() == 2 && a.size(0) == a.size(1), ShapeError,
              "eigh: needs a square matrix, got shape ", a.shape());
  NABLA_CHECK(a.dtype() == kFloat32 || a.dtype() == kFloat64, DTypeError,
              "eigh: needs float32 or float64, got ", a.dtype());
  NABLA_CHECK(a.device().is_cpu(), DeviceError, "eigh: runs on the CPU; got a tensor on ",
              a.device(), " (move it with to(x, Device::cpu()))");
  NABLA_CHECK(a.size(0) <= std::numeric_limits<int>::max(), ShapeError, "eigh: a ", a.size(0), "x",
              a.size(0), " matrix is beyond LAPACK's int sizes");
  Tensor c = contiguous(a);
  return a.dtype() == kFloat32 ? eigh_typed<float>(c) : eigh_typed<double>(c);
}

}  // namespace nabla::core
