// The int8 GEMM: every kernel this CPU runs, bit-exact against a triple-loop integer reference,
// on shapes that are not multiples of the tiles, zero points 0 and not, extreme values, and
// both ways of splitting the product across threads.
#include "core/creation.h"
#include "core/parallel.h"
#include "int8_reference.h"
#include "quant/int8_linear.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::quant;
using namespace nabla::quant::testing;

namespace {

struct GemmCase {
  int64_t m, n, k;
};

// M, N, K around the tiles (4 or 8 rows, 16 lanes, 4 depths per group), K = 1, large K.
const GemmCase kCases[] = {{1, 1, 1},   {1, 17, 3},   {5, 3, 1},     {7, 16, 4},
                           {9, 31, 5},  {4, 48, 144}, {33, 10, 65},  {64, 16, 576},
                           {70, 33, 2}, {13, 64, 99}, {3, 5, 2049},  {130, 20, 288},
                           {257, 7, 9}, {2, 2, 9000}, {100, 40, 127}};

void check_gemm(Int8Kernel kernel, const GemmCase& c, int64_t zp, bool extremes, uint32_t seed) {
  const int x_max = int8_needs_7bit(kernel) ? 127 : 255;
  const auto xv = random_values<uint8_t>(size_t(c.m * c.k), 0, x_max, seed, extremes);
  const auto wv = random_values<int8_t>(size_t(c.n * c.k), -127, 127, seed + 1, extremes);
  const Tensor x = from_vector<uint8_t>(xv, {c.m, c.k});
  const PackedInt8Weight w(from_vector<int8_t>(wv, {c.n, c.k}), full({1}, 0.5));
  const Tensor got = int8_matmul_int32(x, zp, w, kernel);
  REQUIRE(got.dtype() == kInt32);
  REQUIRE(got.shape() == Shape{c.m, c.n});
  const std::vector<int32_t> want = matmul_reference(xv, wv, c.m, c.n, c.k, zp);
  const std::vector<int32_t> have = got.to_vector<int32_t>();
  int64_t wrong = 0;
  for (size_t i = 0; i < want.size(); ++i) wrong += have[i] != want[i];
  CHECK_MESSAGE(wrong == 0, "kernel ", std::string(name(kernel)), " m ", c.m, " n ", c.n, " k ",
                c.k, " zp ", zp, (extremes ? " extremes" : ""), ": ", wrong, " of ", want.size(),
                " differ");
}

}  // namespace

TEST_CASE("int8 gemm: the CPU runs the scalar kernel and lists each kernel once") {
  const std::vector<Int8Kernel> kernels = available_int8_kernels();
  REQUIRE(!kernels.empty());
  CHECK(kernels.front() == Int8Kernel::scalar);
  for (Int8Kernel k : kernels) MESSAGE("int8 kernel available: " << std::string(name(k)));
  CHECK(int8_kernel_available(Int8Kernel::automatic));
  const Int8Kernel best = choose_int8_kernel(Int8Kernel::automatic, "test");
  CHECK(best != Int8Kernel::automatic);
  CHECK(int8_kernel_available(best));
}

TEST_CASE("int8 gemm: every kernel is bit-exact against the integer reference") {
  uint32_t seed = 1;
  for (Int8Kernel kernel : kernels_to_test()) {
    for (const GemmCase& c : kCases) {
      for (int64_t zp : {0, 3, 128, 255}) {
        if (int8_needs_7bit(kernel) && zp > 127) continue;
        check_gemm(kernel, c, zp, false, seed++);
      }
    }
  }
}

TEST_CASE("int8 gemm: extreme values 0, 127, 255 and -127, 127 neither saturate nor overflow") {
  uint32_t seed = 100;
  for (Int8Kernel kernel : kernels_to_test()) {
    for (const GemmCase& c : {GemmCase{8, 16, 64}, GemmCase{17, 33, 1025}, GemmCase{5, 9, 7}}) {
      for (int64_t zp : {0, 127, 255}) {
        if (int8_needs_7bit(kernel) && zp > 127) continue;
        check_gemm(kernel, c, zp, true, seed++);
      }
    }
    // The largest sum the depth limit allows: 255 * 127 over 65536 products, all one sign.
    if (!int8_needs_7bit(kernel)) {
      const int64_t k = 65536;
      const Tensor x = full({2, k}, 255, {.dtype = kUInt8});
      const PackedInt8Weight w(full({3, k}, -127, {.dtype = kInt8}), full({1}, 1.0));
      const std::vector<int32_t> got = int8_matmul_int32(x, 0, w, kernel).to_vector<int32_t>();
      for (int32_t v : got) CHECK(v == -255 * 127 * k);
    }
  }
}

TEST_CASE("int8 gemm: the result does not depend on the thread count") {
  const GemmCase c{96, 40, 300};
  const auto xv = random_values<uint8_t>(size_t(c.m * c.k), 0, 127, 7);
  const auto wv = random_values<int8_t>(size_t(c.n * c.k), -127, 127, 8);
  const Tensor x = from_vector<uint8_t>(xv, {c.m, c.k});
  const Tensor x_few =
      from_vector<uint8_t>(std::vector<uint8_t>(xv.begin(), xv.begin() + 3 * c.k), {3, c.k});
  const PackedInt8Weight w(from_vector<int8_t>(wv, {c.n, c.k}), full({1}, 1.0));
  const int before = get_num_threads();
  for (Int8Kernel kernel : kernels_to_test()) {
    std::vector<std::vector<int32_t>> results, few;
    for (int threads : {1, 2, 3}) {
      set_num_threads(threads);
      results.push_back(int8_matmul_int32(x, 5, w, kernel).to_vector<int32_t>());  // split rows
      few.push_back(int8_matmul_int32(x_few, 5, w, kernel).to_vector<int32_t>());  // split panels
    }
    CHECK(results[0] == matmul_reference(xv, wv, c.m, c.n, c.k, 5));
    for (size_t i = 1; i < results.size(); ++i) {
      CHECK(results[i] == results[0]);
      CHECK(few[i] == few[0]);
    }
  }
  set_num_threads(before);
}

TEST_CASE("int8 gemm: leading dims and strided inputs") {
  const auto xv = random_values<uint8_t>(2 * 3 * 10, 0, 255, 11);
  const auto wv = random_values<int8_t>(6 * 10, -127, 127, 12);
  const Tensor x = from_vector<uint8_t>(xv, {2, 3, 10});
  const PackedInt8Weight w(from_vector<int8_t>(wv, {6, 10}), full({6}, 1.0));
  const Tensor got = int8_matmul_int32(x, 9, w);
  CHECK(got.shape() == Shape{2, 3, 6});
  CHECK(got.to_vector<int32_t>() == matmul_reference(xv, wv, 6, 6, 10, 9));
}

TEST_CASE("int8 gemm: errors name the op and the shapes") {
  const PackedInt8Weight w(full({4, 8}, 1, {.dtype = kInt8}), full({1}, 1.0));
  const Tensor x = full({3, 8}, 1, {.dtype = kUInt8});
  using nabla::testing::error_of;
  const std::string shape = error_of([&] {
    int8_matmul_int32(full({3, 7}, 1, {.dtype = kUInt8}), 0, w);
  });
  CHECK(shape.find("int8_matmul_int32") != std::string::npos);
  CHECK(shape.find("[3, 7]") != std::string::npos);
  CHECK(shape.find("[4, 8]") != std::string::npos);
  CHECK(error_of([&] {
          int8_matmul_int32(full({3, 8}, 1.0), 0, w);
        }).find("uint8") != std::string::npos);
  CHECK(error_of([&] { int8_matmul_int32(x, 256, w); }).find("zero point") != std::string::npos);
  CHECK_THROWS_AS(PackedInt8Weight(full({4, 8}, -128, {.dtype = kInt8}), full({1}, 1.0)),
                  ValueError);
  CHECK_THROWS_AS(PackedInt8Weight(full({4, 8}, 1.0), full({1}, 1.0)), DTypeError);
  CHECK_THROWS_AS(PackedInt8Weight(full({4, 8}, 1, {.dtype = kInt8}), full({3}, 1.0)), ShapeError);
  CHECK_THROWS_AS(PackedInt8Weight(full({4, 8}, 1, {.dtype = kInt8}), full({1}, 0.0)), ValueError);
  if (int8_kernel_available(Int8Kernel::avx2_u7)) {
    const std::string wide = error_of([&] {
      int8_matmul_int32(full({3, 8}, 200, {.dtype = kUInt8}), 0, w, Int8Kernel::avx2_u7);
    });
    CHECK(wide.find("[0, 127]") != std::string::npos);
    // automatic takes an exact kernel instead.
    const auto got = int8_matmul_int32(full({3, 8}, 200, {.dtype = kUInt8}), 0, w);
    for (int32_t v : got.to_vector<int32_t>()) CHECK(v == 200 * 8);
  }
  if (!int8_kernel_available(Int8Kernel::avx512_vnni)) {
    CHECK_THROWS_AS(int8_matmul_int32(x, 0, w, Int8Kernel::avx512_vnni), DeviceError);
  }
}
