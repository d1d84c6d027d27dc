// CPU elementwise kernels: unary, binary and where, over any strides, with contiguous and
// broadcast-scalar fast paths that the compiler vectorizes.
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/gelu.h"
#include "core/cpu/loops.h"
#include "core/cpu/nan.h"

namespace nabla {

namespace {

template <class R, class T, class F>
void map1(const Tensor& x, const Tensor& out, F f) {
  cpu::for_each<2>({out, x}, [f](auto p, auto s, int64_t n) {
    if (s[0] == sizeof(R) && s[1] == sizeof(T)) {
      R* o = reinterpret_cast<R*>(p[0]);
      const T* a = reinterpret_cast<const T*>(p[1]);
      for (int64_t i = 0; i < n; ++i) o[i] = f(a[i]);
      return;
    }
    for (int64_t i = 0; i < n; ++i)
      *reinterpret_cast<R*>(p[0] + i * s[0]) = f(*reinterpret_cast<const T*>(p[1] + i * s[1]));
  });
}

template <class R, class T, class F>
void map2(const Tensor& a, const Tensor& b, const Tensor& out, F f) {
  cpu::for_each<3>({out, a, b}, [f](auto p, auto s, int64_t n) {
    R* o = reinterpret_cast<R*>(p[0]);
    const T* x = reinterpret_cast<const T*>(p[1]);
    const T* y = reinterpret_cast<const T*>(p[2]);
    if (s[0] == sizeof(R) && s[1] == sizeof(T) && s[2] == sizeof(T)) {
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]);
    } else if (s[0] == sizeof(R) && s[1] == sizeof(T) && s[2] == 0) {
      const T yv = *y;
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], yv);
    } else if (s[0] == sizeof(R) && s[1] == 0 && s[2] == sizeof(T)) {
      const T xv = *x;
      for (int64_t i = 0; i < n; ++i) o[i] = f(xv, y[i]);
    } else {
      for (int64_t i = 0; i < n; ++i)
        *reinterpret_cast<R*>(p[0] + i * s[0]) = f(*reinterpret_cast<const T*>(p[1] + i * s[1]),
                                                   *reinterpret_cast<const T*>(p[2] + i * s[2]));
    }
  });
}

// Ops defined for every numeric dtype.
template <class T>
bool unary_numeric(UnaryOp op, const Tensor& x, const Tensor& out, double alpha, double beta) {
  switch (op) {
    case UnaryOp::neg:
      map1<T, T>(x, out, [](T v) { return static_cast<T>(-v); });
      return true;
    case UnaryOp::abs:
      map1<T, T>(x, out, [](T v) { return static_cast<T>(v < T(0) ? -v : v); });
      return true;
    case UnaryOp::sign:
      map1<T, T>(x, out, [](T v) { return static_cast<T>((T(0) < v) - (v < T(0))); });
      return true;
    case UnaryOp::relu:
      map1<T, T>(x, out, [](T v) { return v > T(0) ? v : T(0); });
      return true;
    case UnaryOp::logical_not:
      map1<bool, T>(x, out, [](T v) { return !v; });
      return true;
    case UnaryOp::clamp: {
      const T lo = static_cast<T>(alpha), hi = static_cast<T>(beta);
      map1<T, T>(x, out, [lo, hi](T v) { return v < lo ? lo : (v > hi ? hi : v); });
      return true;
    }
    default:
      return false;
  }
}

template <class T>
void unary_floating(UnaryOp op, const Tensor& x, const Tensor& out, double alpha) {
  auto run = [&](auto f) { map1<T, T>(x, out, f); };
  switch (op) {
    case UnaryOp::exp:
      return run([](T v) { return std::exp(v); });
    case UnaryOp::log:
      return run([](T v) { return std::log(v); });
    case UnaryOp::sqrt:
      return run([](T v) { return std::sqrt(v); });
    case UnaryOp::rsqrt:
      return run([](T v) { return T(1) / std::sqrt(v); });
    case UnaryOp::sin:
      return run([](T v) { return std::sin(v); });
    case UnaryOp::cos:
      return run([](T v) { return std::cos(v); });
    case UnaryOp::tanh:
      return run([](T v) { return std::tanh(v); });
    case UnaryOp::sigmoid:
      return run([](T v) { return T(1) / (T(1) + std::exp(-v)); });
    case UnaryOp::erf:
      return run([](T v) { return std::erf(v); });
    case UnaryOp::log1p:
      return run([](T v) { return std::log1p(v); });
    case UnaryOp::expm1:
      return run([](T v) { return std::expm1(v); });
    case UnaryOp::reciprocal:
      return run([](T v) { return T(1) / v; });
    case UnaryOp::gelu:
      return run([](T v) __attribute__((always_inline)) { return cpu::gelu(v); });
    case UnaryOp::floor:
      return run([](T v) { return std::floor(v); });
    case UnaryOp::ceil:
      return run([](T v) { return std::ceil(v); });
    case UnaryOp::round:
      return run([](T v) { return std::nearbyint(v); });
    case UnaryOp::pow_scalar: {
      const T e = static_cast<T>(alpha);
      if (e == T(2)) return run([](T v) { return v * v; });
      if (e == T(0.5)) return run([](T v) { return std::sqrt(v); });
      return run([e](T v) { return std::pow(v, e); });
    }
    default:
      NABLA_ASSERT(false);
  }
}

}  // namespace

void CpuBackend::unary(UnaryOp op, const Tensor& x, const Tensor& out, double alpha, double beta) {
  visit_dtype(x.dtype(), "unary", [&]<class T>() {
    if (unary_numeric<T>(op, x, out, alpha, beta)) return;
    if constexpr (std::is_floating_point_v<T>) {
      unary_floating<T>(op, x, out, alpha);
    } else {
      NABLA_ASSERT(false);  // core/ops.cpp promotes integral inputs of floating ops
    }
  });
}

void CpuBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  visit_dtype(a.dtype(), "binary", [&]<class T>() {
    auto arith = [&](auto f) { map2<T, T>(a, b, out, f); };
    auto test = [&](auto f) { map2<bool, T>(a, b, out, f); };
    switch (op) {
      case BinaryOp::add:
        return arith([](T x, T y) { return static_cast<T>(x + y); });
      case BinaryOp::sub:
        return arith([](T x, T y) { return static_cast<T>(x - y); });
      case BinaryOp::mul:
        return arith([](T x, T y) { return static_cast<T>(x * y); });
      case BinaryOp::relu_backward:
        return arith([](T out, T grad) { return out > T(0) ? grad : T(0); });
      case BinaryOp::maximum:
        return arith([](T x, T y) { return (x > y || cpu::is_nan(x)) ? x : y; });
      case BinaryOp::minimum:
        return arith([](T x, T y) { return (x < y || cpu::is_nan(x)) ? x : y; });
      case BinaryOp::eq:
        return test([](T x, T y) { return x == y; });
      case BinaryOp::ne:
        return test([](T x, T y) { return x != y; });
      case BinaryOp::lt:
        return test([](T x, T y) { return x < y; });
      case BinaryOp::le:
        return test([](T x, T y) { return x <= y; });
      case BinaryOp::gt:
        return test([](T x, T y) { return x > y; });
      case BinaryOp::ge:
        return test([](T x, T y) { return x >= y; });
      case BinaryOp::logical_and:
        return test([](T x, T y) { return x && y; });
      case BinaryOp::logical_or:
        return test([](T x, T y) { return x || y; });
      case BinaryOp::div:
      case BinaryOp::pow:
      case BinaryOp::gelu_backward:
        if constexpr (std::is_floating_point_v<T>) {
          if (op == BinaryOp::div) return arith([](T x, T y) { return x / y; });
          if (op == BinaryOp::gelu_backward)
            // Inlined into map2's loops (GCC leaves a lambda this large as a call), so they
            // vectorize.
            return arith([](T x, T g)
                             __attribute__((always_inline)) { return cpu::gelu_backward(x, g); });
          return arith([](T x, T y) { return std::pow(x, y); });
        }
        NABLA_ASSERT(false);  // core/ops.cpp promotes integral inputs of div, pow, gelu_backward
    }
  });
}

void CpuBackend::where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  visit_dtype(a.dtype(), "where", [&]<class T>() {
    cpu::for_each<4>({out, cond, a, b}, [](auto p, auto s, int64_t n) {
      T* o = reinterpret_cast<T*>(p[0]);
      // Read as bytes: GCC does not vectorize loads of bool.
      const uint8_t* c = reinterpret_cast<const uint8_t*>(p[1]);
      const T* x = reinterpret_cast<const T*>(p[2]);
      const T* y = reinterpret_cast<const T*>(p[3]);
      // Contiguous, and either side maybe a broadcast scalar (ReLU's backward selects the
      // gradient or 0). Both sides are read unconditionally, so that the selection compiles to
      // vector blends instead of a branch per element (mispredicted on half of them).
      if (s[0] == sizeof(T) && s[1] == sizeof(bool)) {
        const int64_t step_x = s[2] == 0 ? 0 : 1, step_y = s[3] == 0 ? 0 : 1;
        if ((s[2] == 0 || s[2] == sizeof(T)) && (s[3] == 0 || s[3] == sizeof(T))) {
          if (step_x == 1 && step_y == 0) {
            const T yv = *y;
            for (int64_t i = 0; i < n; ++i) {
              const T xv = x[i];
              o[i] = c[i] != 0 ? xv : yv;
            }
          } else {
            for (int64_t i = 0; i < n; ++i) {
              const T xv = x[i * step_x], yv = y[i * step_y];
              o[i] = c[i] != 0 ? xv : yv;
            }
          }
          return;
        }
      }
      for (int64_t i = 0; i < n; ++i) {
        bool c = *reinterpret_cast<const bool*>(p[1] + i * s[1]);
        *reinterpret_cast<T*>(p[0] + i * s[0]) =
            *reinterpret_cast<const T*>(p[c ? 2 : 3] + i * s[c ? 2 : 3]);
      }
    });
  });
}

}  // namespace nabla
