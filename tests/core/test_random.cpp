// Random numbers: the same seed gives the same numbers, whatever the thread count or layout;
// distributions have the right range and moments.
#include <doctest/doctest.h>

#include <cmath>

#include "nabla.h"

using namespace nabla;

TEST_CASE("same seed, same numbers, another seed, other numbers") {
  manual_seed(42);
  std::vector<float> a = randn({1000}).to_vector<float>();
  std::vector<float> a2 = rand({10}).to_vector<float>();
  manual_seed(42);
  CHECK(randn({1000}).to_vector<float>() == a);
  CHECK(rand({10}).to_vector<float>() == a2);
  manual_seed(43);
  CHECK(randn({1000}).to_vector<float>() != a);
}

TEST_CASE("draws do not depend on the number of threads") {
  manual_seed(1);
  std::vector<float> many = randn({1 << 18}).to_vector<float>();
  int threads = get_num_threads();
  set_num_threads(1);
  manual_seed(1);
  std::vector<float> one = randn({1 << 18}).to_vector<float>();
  set_num_threads(threads);
  CHECK(many == one);
}

TEST_CASE("generator state restores the same stream") {
  manual_seed(5);
  randn({7});
  Generator::State state = default_generator(Device::cpu()).state();
  std::vector<float> next = rand({5}).to_vector<float>();
  default_generator(Device::cpu()).set_state(state);
  CHECK(rand({5}).to_vector<float>() == next);
}

TEST_CASE("uniform, normal, integer and bernoulli draws have the right range and moments") {
  manual_seed(7);
  const int64_t n = 200000;
  Tensor u = rand({n}, {.dtype = kFloat64});
  CHECK(amin(u).item() >= 0);
  CHECK(amax(u).item() < 1);
  CHECK(mean(u).item() == doctest::Approx(0.5).epsilon(0.01));
  Tensor z = randn({n}, {.dtype = kFloat64});
  CHECK(std::abs(mean(z).item()) < 0.01);
  CHECK(stddev(z).item() == doctest::Approx(1).epsilon(0.01));
  Tensor r = randint(-3, 4, {n});
  CHECK(r.dtype() == kInt64);
  CHECK(amin(r).item<int64_t>() == -3);
  CHECK(amax(r).item<int64_t>() == 3);
  Tensor b = bernoulli_(empty({n}), 0.25);
  CHECK(mean(b).item() == doctest::Approx(0.25).epsilon(0.02));
  Tensor view_target = zeros({100, 100});
  normal_(transpose(view_target, 0, 1), 3, 2);  // a non-contiguous target
  CHECK(mean(view_target).item() == doctest::Approx(3).epsilon(0.05));
  CHECK_THROWS_AS(randint(3, 3, {2}), ValueError);
  CHECK_THROWS_AS(rand({2}, {.dtype = kInt64}), DTypeError);
}
