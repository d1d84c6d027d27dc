// CPU copy with dtype conversion, fill, and Philox random draws.
#include <cmath>
#include <cstring>
#include <type_traits>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/loops.h"
#include "core/philox.h"

namespace nabla {

namespace {

template <class To, class From>
To convert(From v) {
  if constexpr (std::is_same_v<To, bool>) {
    return static_cast<float>(v) != 0.0f;
  } else if constexpr (std::is_same_v<To, Half> || std::is_same_v<To, BFloat16>) {
    return To(static_cast<float>(v));
  } else if constexpr (std::is_same_v<From, Half> || std::is_same_v<From, BFloat16>) {
    return static_cast<To>(static_cast<float>(v));
  } else {
    return static_cast<To>(v);
  }
}

}  // namespace

void CpuBackend::copy(const Tensor& src, const Tensor& dst) {
  visit_dtype<DTypeSet::all>(src.dtype(), "copy", [&]<class S>() {
    visit_dtype<DTypeSet::all>(dst.dtype(), "copy", [&]<class D>() {
      cpu::for_each<2>({dst, src}, [](auto p, auto s, int64_t n) {
        if constexpr (std::is_same_v<S, D>) {
          if (s[0] == sizeof(D) && s[1] == sizeof(S)) {
            std::memcpy(p[0], p[1], n * sizeof(D));
            return;
          }
        }
        if (s[0] == sizeof(D) && s[1] == sizeof(S)) {
          D* out = reinterpret_cast<D*>(p[0]);
          const S* in = reinterpret_cast<const S*>(p[1]);
          for (int64_t i = 0; i < n; ++i) out[i] = convert<D>(in[i]);
          return;
        }
        for (int64_t i = 0; i < n; ++i)
          *reinterpret_cast<D*>(p[0] + i * s[0]) =
              convert<D>(*reinterpret_cast<const S*>(p[1] + i * s[1]));
      });
    });
  });
}

void CpuBackend::fill(const Tensor& dst, double value) {
  visit_dtype<DTypeSet::all>(dst.dtype(), "fill", [&]<class T>() {
    const T v = convert<T>(value);
    cpu::for_each<1>({dst}, [v](auto p, auto s, int64_t n) {
      for (int64_t i = 0; i < n; ++i) *reinterpret_cast<T*>(p[0] + i * s[0]) = v;
    });
  });
}

void CpuBackend::random(const Tensor& dst, RandomKind kind, double a, double b, uint64_t seed,
                        uint64_t offset) {
  NABLA_ASSERT(dst.is_contiguous());
  visit_dtype(dst.dtype(), "random", [&]<class T>() {
    T* out = dst.data<T>();
    auto draw = [&](auto value_of) {
      cpu::parallel_for(dst.numel(), 4096, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) out[i] = static_cast<T>(value_of(offset + i));
      });
    };
    switch (kind) {
      case RandomKind::uniform:
        // Rounding to float can land on b; the draw stays in [a, b) by stepping back one ulp.
        draw([&](uint64_t c) {
          double v = a + (b - a) * philox_uniform(c, seed);
          if constexpr (std::is_floating_point_v<T>)
            if (static_cast<T>(v) >= static_cast<T>(b))
              return std::nextafter(static_cast<T>(b), static_cast<T>(a));
          return static_cast<T>(v);
        });
        break;
      case RandomKind::normal:
        draw([&](uint64_t c) { return a + b * philox_normal(c, seed); });
        break;
      case RandomKind::integer: {
        uint64_t range = static_cast<uint64_t>(static_cast<int64_t>(b) - static_cast<int64_t>(a));
        draw([&](uint64_t c) {
          return static_cast<int64_t>(a) + static_cast<int64_t>(philox_bits64(c, seed) % range);
        });
        break;
      }
      case RandomKind::bernoulli:
        draw([&](uint64_t c) { return philox_uniform(c, seed) < a ? 1 : 0; });
        break;
    }
  });
}

}  // namespace nabla
