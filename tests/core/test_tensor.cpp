// Tensors: creation, metadata, element access, dtypes and printing.
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>

#include "nabla.h"

using namespace nabla;

TEST_CASE("zeros, ones, full: shape, dtype, values") {
  Tensor z = zeros({2, 3});
  CHECK(z.shape() == Shape{2, 3});
  CHECK(z.dtype() == kFloat32);
  CHECK(z.numel() == 6);
  CHECK(z.is_contiguous());
  CHECK(z.strides() == Strides{3, 1});
  CHECK(ones({4}, {.dtype = kInt64}).to_vector<int64_t>() == std::vector<int64_t>{1, 1, 1, 1});
  CHECK(full({2}, 2.5, {.dtype = kFloat64}).to_vector<double>() == std::vector<double>{2.5, 2.5});
  CHECK(scalar_tensor(3).dim() == 0);
  CHECK(scalar_tensor(3).item() == 3.0);
}

TEST_CASE("arange, linspace, eye") {
  CHECK(arange(5).to_vector<double>() == std::vector<double>{0, 1, 2, 3, 4});
  CHECK(arange(1, 2, 0.25).to_vector<double>() == std::vector<double>{1, 1.25, 1.5, 1.75});
  CHECK(arange(5, 0, -2, {.dtype = kInt64}).to_vector<int64_t>() == std::vector<int64_t>{5, 3, 1});
  CHECK(arange(0).numel() == 0);
  CHECK(linspace(0, 1, 5).to_vector<double>() == std::vector<double>{0, 0.25, 0.5, 0.75, 1});
  CHECK(eye(2, 3).to_vector<double>() == std::vector<double>{1, 0, 0, 0, 1, 0});
  CHECK_THROWS_AS(arange(0, 1, 0), ValueError);
}

TEST_CASE("from_vector and from_blob") {
  Tensor t = from_vector<int32_t>({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(t.dtype() == kInt32);
  CHECK(t.shape() == Shape{2, 3});
  CHECK(t.data<int32_t>()[4] == 5);
  Tensor f = from_vector<int32_t>({1, 2}, {}, {.dtype = kFloat64});
  CHECK(f.dtype() == kFloat64);
  CHECK_THROWS_AS(from_vector<float>({1, 2, 3}, {2, 2}), ShapeError);

  float buffer[4] = {1, 2, 3, 4};
  Tensor blob = from_blob(buffer, {2, 2}, kFloat32);
  buffer[3] = 40;  // no copy: the tensor sees the caller's memory
  CHECK(blob.to_vector<float>()[3] == 40);
  bool freed = false;
  {
    Tensor owned = from_blob(buffer, {4}, kFloat32, [&](void*) { freed = true; });
  }
  CHECK(freed);
}

TEST_CASE("element access checks dtype and size") {
  Tensor t = zeros({3});
  CHECK_THROWS_AS(t.data<double>(), DTypeError);
  CHECK_THROWS_AS(t.item(), ValueError);
  CHECK(zeros({1, 1}).item<int>() == 0);
  CHECK_THROWS_AS(t.size(3), IndexError);
  CHECK(t.size(-1) == 3);
  CHECK_THROWS_AS(scalar_tensor(1).size(0), IndexError);
  CHECK_THROWS_AS(zeros({-1}), ShapeError);
}

TEST_CASE("dtype conversion and promotion") {
  Tensor f = from_vector<float>({1.5f, -2.7f, 300.f});
  CHECK(to(f, kInt32).to_vector<int32_t>() == std::vector<int32_t>{1, -2, 300});
  CHECK(to(f, kBool).to_vector<uint8_t>() == std::vector<uint8_t>{1, 1, 1});
  CHECK(to(f, kFloat64).dtype() == kFloat64);
  CHECK(promote_types(kInt64, kFloat32) == kFloat32);
  CHECK(promote_types(kInt8, kUInt8) == kInt32);
  CHECK(promote_types(kFloat32, kFloat64) == kFloat64);
  CHECK(promote_types(kBool, kInt32) == kInt32);
  CHECK(promote_types(kFloat16, kBFloat16) == kFloat32);
  CHECK((from_vector<int64_t>({1, 2}) + from_vector<float>({0.5f, 0.5f})).dtype() == kFloat32);
  CHECK((from_vector<int64_t>({1, 2}) * 2.5).dtype() == kFloat32);
  CHECK((from_vector<int64_t>({1, 2}) * 2).dtype() == kInt64);
  CHECK((from_vector<int64_t>({3}) / from_vector<int64_t>({2})).item() == 1.5);  // true division
}

TEST_CASE("float16 and bfloat16: storage and conversion") {
  Tensor f = from_vector<float>({1.0f, -2.5f, 65504.f, 1e-7f, 3.14159f, 70000.f});
  std::vector<float> half = to(to(f, kFloat16), kFloat32).to_vector<float>();
  CHECK(half[0] == 1.0f);
  CHECK(half[1] == -2.5f);
  CHECK(half[2] == 65504.f);                      // the largest half
  CHECK(half[3] == doctest::Approx(1.19209e-7));  // a subnormal half
  CHECK(half[4] == doctest::Approx(3.140625));    // 10 mantissa bits
  CHECK(std::isinf(half[5]));
  std::vector<float> bf = to(to(f, kBFloat16), kFloat32).to_vector<float>();
  CHECK(bf[1] == -2.5f);
  CHECK(bf[4] == doctest::Approx(3.140625));  // 8 mantissa bits: 3.140625
  CHECK(bf[5] == 70144.f);
  CHECK(std::isnan(Half::to_float(Half::from_float(NAN))));
  CHECK_THROWS_WITH_AS(add(to(f, kFloat16), to(f, kFloat16)), doctest::Contains("to(kFloat32)"),
                       DTypeError);
}

TEST_CASE("printing: values, shape and dtype like PyTorch") {
  std::ostringstream os;
  os << from_vector<float>({1, 2.5f, -3, 4}, {2, 2});
  CHECK(os.str() ==
        "tensor([[ 1.0000,  2.5000],\n        [-3.0000,  4.0000]], shape=[2, 2], dtype=float32)");
  os.str("");
  os << arange(3, {.dtype = kInt64});
  CHECK(os.str() == "tensor([0, 1, 2], shape=[3], dtype=int64)");
  os.str("");
  os << from_vector<float>({1, 2});
  CHECK(os.str() == "tensor([1., 2.], shape=[2], dtype=float32)");
  os.str("");
  os << scalar_tensor(0.5, {.requires_grad = true});
  CHECK(os.str() == "tensor(0.5000, shape=[], dtype=float32, requires_grad=true)");
  os.str("");
  os << from_vector<float>({1e-6f, 1.f});
  CHECK(os.str() == "tensor([1.0000e-06, 1.0000e+00], shape=[2], dtype=float32)");
  os.str("");
  os << gt(from_vector<float>({1, -1}), 0.0);
  CHECK(os.str() == "tensor([ true, false], shape=[2], dtype=bool)");
  os.str("");
  os << arange(2000);
  CHECK(os.str() ==
        "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00, ..., 1.9970e+03, 1.9980e+03, "
        "1.9990e+03], shape=[2000], dtype=float32)");
}
