// The smallest nabla program that learns: fits y = 3x - 2 + noise with a line, by gradient
// descent on tensors and autograd alone.
#include <cstdio>

#include "nabla.h"

using namespace nabla;

int main() {
  manual_seed(0);
  Tensor x = randn({256, 1});
  Tensor y = 3 * x - 2 + 0.1 * randn({256, 1});

  Tensor w = zeros({1, 1}).requires_grad_();
  Tensor b = zeros({1}).requires_grad_();
  const double lr = 0.1;
  for (int step = 1; step <= 100; ++step) {
    Tensor loss = mean(square(matmul(x, w) + b - y));
    zero_grad({w, b});
    backward(loss);
    {
      NoGradGuard no_grad;
      add_(w, w.grad(), -lr);
      add_(b, b.grad(), -lr);
    }
    if (step % 20 == 0) std::printf("step %3d  loss %.5f\n", step, loss.item());
  }
  std::printf("fitted w = %.3f, b = %.3f (true: 3, -2)\n", w.item(), b.item());
}
