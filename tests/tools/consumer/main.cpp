// Built against the installed nabla package: its headers, libraries, OpenBLAS and OpenMP must all
// be found, and a gradient through matmul and elementwise ops must come out right.
#include <cmath>
#include <cstdio>
#include <vector>

#include "nabla.h"

using namespace nabla;

int main() {
  // loss = sum(a @ x) + sum(x^3), so d(loss)/dx[i] = (column sum i of a) + 3 x[i]^2.
  Tensor a = from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});  // a: [2, 3]
  Tensor x = from_vector<float>({1, -2, 0.5}, {3, 1});        // x: [3, 1]
  x.requires_grad_();
  Tensor loss = sum(matmul(a, x)) + sum(x * x * x);
  backward(loss);

  const std::vector<float> expected = {5 + 3, 7 + 12, 9 + 0.75};
  const std::vector<float> got = x.grad().to_vector<float>();
  int wrong = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    if (std::fabs(got[i] - expected[i]) > 1e-5f) {
      std::printf("d(loss)/dx[%zu] = %g, expected %g\n", i, got[i], expected[i]);
      ++wrong;
    }
  }
  if (wrong == 0) std::printf("consumer: gradients match\n");
  return wrong == 0 ? 0 : 1;
}
