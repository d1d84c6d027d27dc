// What the closure-driven optimizers (newton, bfgs, lbfgs) share: resuming from a state dict in
// the middle of a run continues bit for bit with state spread over several parameters, a
// parameter that joins later restarts the method cleanly, and step() without a closure is refused.
#include <doctest/doctest.h>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "optim/registry.h"
#include "optim/state_dict.h"
#include "problems.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::testing;

namespace {

// 6-D Rosenbrock over two parameters: x [4] and y [2, 1], from (-1.2, 1, -1.2, 1, -1.2, 1).
optim::NamedTensors two_parameters() {
  return {{"x", leaf({-1.2, 1.0, -1.2, 1.0})},
          {"y", from_vector<double>({-1.2, 1.0}, {2, 1}).requires_grad_()}};
}

optim::Closure rosenbrock_closure(const optim::NamedTensors& p) {
  return [p] {
    Tensor z = cat({p[0].second, reshape(p[1].second, {2})}, 0);
    Tensor head = slice(z, 0, 0, 5), tail = slice(z, 0, 1, 6);
    Tensor loss = sum(100.0 * square(tail - square(head)) + square(1.0 - head));
    backward(loss);
    return loss;
  };
}

const std::vector<std::pair<const char*, optim::OptionMap>> kMethods = {
    {"newton", {}},
    {"bfgs", {{"max_iter", 3}}},
    {"bfgs", {{"max_iter", 3}, {"line_search", "strong_wolfe"}}},
    {"lbfgs", {{"max_iter", 3}, {"history_size", 4}}},
    {"lbfgs", {{"max_iter", 3}, {"history_size", 4}, {"line_search", "strong_wolfe"}}}};

}  // namespace

TEST_CASE("closure-driven optimizers: resuming mid-run continues the trajectory bit for bit") {
  for (const auto& [name, options] : kMethods) {
    CAPTURE(name);
    CAPTURE(options.contains("line_search"));
    optim::NamedTensors straight = two_parameters(), first = two_parameters();
    auto a = optim::create(name, straight, options), b = optim::create(name, first, options);
    for (int i = 0; i < 4; ++i) {
      a->step(rosenbrock_closure(straight));
      b->step(rosenbrock_closure(first));
    }
    optim::StateDict saved = b->state_dict();
    saved.json = nlohmann::json::parse(saved.json.dump());

    optim::NamedTensors resumed = two_parameters();
    {
      NoGradGuard no_grad;
      for (size_t i = 0; i < resumed.size(); ++i) copy_(resumed[i].second, first[i].second);
    }
    auto c = optim::create(name, resumed, options);
    CHECK(c->load_state_dict(saved, /*strict=*/true).ok());
    for (int i = 0; i < 4; ++i) {
      a->step(rosenbrock_closure(straight));
      c->step(rosenbrock_closure(resumed));
    }
    for (size_t i = 0; i < resumed.size(); ++i)
      CHECK(values(resumed[i].second) == values(straight[i].second));
    CHECK(values(resumed[0].second) != values(two_parameters()[0].second));
  }
}

TEST_CASE("closure-driven optimizers: a parameter that joins later restarts the method") {
  for (const auto& [name, options] : kMethods) {
    CAPTURE(name);
    optim::NamedTensors p = two_parameters();
    auto optimizer = optim::create(name, p, options);
    // First only x takes part (y gets no gradient), then both.
    optim::Closure x_only = [&] {
      Tensor x = p[0].second;
      Tensor loss = sum(100.0 * square(slice(x, 0, 1, 4) - square(slice(x, 0, 0, 3))) +
                        square(1.0 - slice(x, 0, 0, 3)));
      backward(loss);
      return loss;
    };
    for (int i = 0; i < 3; ++i) optimizer->step(x_only);
    CHECK(optimizer->state("y") == nullptr);
    double before = rosenbrock_closure(p)().item();
    for (int i = 0; i < 10; ++i) optimizer->step(rosenbrock_closure(p));
    CHECK(optimizer->state("y") != nullptr);
    CHECK(rosenbrock_closure(p)().item() < before);
  }
}

TEST_CASE("closure-driven optimizers: step() without a closure and oracles are refused") {
  for (const char* name : {"newton", "bfgs", "lbfgs"}) {
    CAPTURE(name);
    optim::NamedTensors p = quadratic().start();
    auto optimizer = optim::create(name, p);
    std::string message = error_of([&] { optimizer->step(); });
    CHECK(message.find(std::string(name) + ": step() needs a closure") == 0);
    CHECK_THROWS_AS(optim::create("sam", p, {{"base", name}}), ValueError);
  }
}
