// CreateGraphGuard: backward() inside it records its own pass, as create_graph does, so a
// closure that only calls backward(loss) yields gradients that can be differentiated again.
#include <doctest/doctest.h>

#include "nabla.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::testing;

TEST_CASE("CreateGraphGuard: backward records its pass only inside the scope") {
  // f = x0^3 x1: df/dx0 = 3 x0^2 x1, d2f/dx0^2 = 6 x0 x1 = 12 at (1, 2).
  Tensor x = from_vector<double>({1.0, 2.0}).requires_grad_();
  auto f = [&] { return pow(select(x, 0, 0), 3.0) * select(x, 0, 1); };
  CHECK_FALSE(CreateGraphGuard::is_enabled());
  {
    CreateGraphGuard create_graph;
    CHECK(CreateGraphGuard::is_enabled());
    backward(f());
  }
  CHECK_FALSE(CreateGraphGuard::is_enabled());
  Tensor g = x.grad();
  REQUIRE(g.requires_grad());
  check_close(g, {6.0, 1.0}, 1e-12);
  Tensor second = autograd::grad({select(g, 0, 0)}, {x})[0];
  check_close(second, {12.0, 3.0}, 1e-12);
  x.set_grad(Tensor());  // breaks the grad() -> graph -> x cycle

  backward(f());
  CHECK_FALSE(x.grad().requires_grad());
}

TEST_CASE("CreateGraphGuard: nested scopes restore the outer state") {
  {
    CreateGraphGuard outer;
    {
      CreateGraphGuard inner;
      CHECK(CreateGraphGuard::is_enabled());
    }
    CHECK(CreateGraphGuard::is_enabled());
  }
  CHECK_FALSE(CreateGraphGuard::is_enabled());
}
