// The instruction-set cap (NABLA_CPU_CAPABILITY lowers what the kernels may use, never raises
// it), and the GEMM kernel it picks against a triple loop.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/cpu/isa.h"
#include "core/cpu/sgemm.h"

using namespace nabla::cpu;

TEST_CASE("cpu capability: never above the hardware, capped by NABLA_CPU_CAPABILITY") {
  const bool avx512 = __builtin_cpu_supports("avx512f");
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  CHECK((!has_avx512() || avx512));
  CHECK((!has_avx2_fma() || avx2));
  const char* value = std::getenv("NABLA_CPU_CAPABILITY");
  const std::string cap = value ? value : "";
  if (cap == "avx2") {
    CHECK_FALSE(has_avx512());
    CHECK(has_avx2_fma() == avx2);
  } else if (cap == "baseline") {
    CHECK(cpu_capability() == Capability::baseline);
    CHECK_FALSE(has_sgemm_kernel());
  } else {
    CHECK(has_avx512() == avx512);
    CHECK(has_avx2_fma() == (avx2 || avx512));
  }
}

namespace {

// Operand x [rows, cols] of the product as sgemm reads it: stored row-major, stored transposed,
// or as a table of lines (op(X)'s rows, or its columns when transposed).
struct Operand {
  std::vector<float> storage;
  std::vector<const float*> lines;
  GemmOperand view;
};

Operand make_operand(int64_t rows, int64_t cols, bool trans, bool as_lines, float seed) {
  Operand x;
  x.storage.resize(size_t(rows * cols));
  for (size_t i = 0; i < x.storage.size(); ++i) x.storage[i] = std::sin(seed + 0.37f * float(i));
  const int64_t ld = trans ? rows : cols, count = trans ? cols : rows;
  if (as_lines) {
    for (int64_t i = 0; i < count; ++i) x.lines.push_back(x.storage.data() + i * ld);
    x.view = {.trans = trans, .lines = x.lines.data()};
  } else {
    x.view = {.data = x.storage.data(), .ld = ld, .trans = trans};
  }
  return x;
}

// Element (i, j) of op(X).
float element(const Operand& x, int64_t i, int64_t j, int64_t cols) {
  const int64_t rows = int64_t(x.storage.size()) / cols;
  return x.view.trans ? x.storage[size_t(j * rows + i)] : x.storage[size_t(i * cols + j)];
}

}  // namespace

TEST_CASE("cpu sgemm: every operand form against a triple loop, on the widest kernel allowed") {
  if (!has_sgemm_kernel()) return;  // baseline: the callers take OpenBLAS and im2col instead
  // Sizes off the register tiles of both kernels (8 x 32, 4 x 24), more rows than one row block
  // (so that blocks of whole tiles matter), depths over one 256 block, few columns with a long
  // depth, and a width over one 2048-column packed block.
  const std::vector<std::array<int64_t, 3>> sizes = {{300, 70, 520}, {129, 33, 7},  {7, 17, 300},
                                                     {37, 13, 2500}, {6, 2100, 20}, {1, 1, 1}};
  for (auto [m, n, k] : sizes) {
    for (int form = 0; form < 8; ++form) {
      const bool ta = form & 1, tb = form & 2, b_lines = form & 4;
      INFO(m, "x", n, "x", k, " transposed a ", ta, " b ", tb, " b as lines ", b_lines);
      const Operand a = make_operand(m, k, ta, false, 1.0f), b = make_operand(k, n, tb, b_lines, 2);
      for (float beta : {0.0f, 1.0f, 0.5f}) {
        std::vector<float> c(size_t(m * n), 0.25f);
        sgemm(m, n, k, 1.5f, a.view, b.view, beta, c.data(), n);
        double worst = 0;
        for (int64_t i = 0; i < m; ++i) {
          for (int64_t j = 0; j < n; ++j) {
            double want = beta * 0.25;
            for (int64_t p = 0; p < k; ++p)
              want += 1.5 * double(element(a, i, p, k)) * double(element(b, p, j, n));
            worst = std::max(worst, std::abs(want - double(c[size_t(i * n + j)])));
          }
        }
        CHECK(worst <= 1e-5 * double(k) + 1e-6);
      }
    }
  }
}
