// Optimizers PyTorch 1.13 lacks (LAMB, LARS, Lion, SAM, SVRG, proximal gradient, SGD-HD, Adam-HD,
// exponentiated gradient): each against its paper's update written again here in plain float64
// loops, and on a problem whose answer is known.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "fixtures.h"
#include "optim/registry.h"
#include "optim/svrg.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::testing;

namespace {

using Vec = std::vector<double>;
using Params = std::vector<Vec>;  // x [4] and y [3]

// f = 1/2 sum a (x - c)^2 + 1/4 sum y^4 + 0.1 sum(x) sum(y): two tensors, coupled, not quadratic.
const Vec kA = {4.0, 2.0, 1.0, 0.5}, kC = {0.1, 0.2, 0.3, 0.4};
const Params kStart = {{0.125, 0.375, 0.25, 0.25}, {0.5, 0.25, 0.25}};

Params gradient(const Params& p) {
  double sx = std::accumulate(p[0].begin(), p[0].end(), 0.0);
  double sy = std::accumulate(p[1].begin(), p[1].end(), 0.0);
  Params g = p;
  for (size_t i = 0; i < 4; ++i) g[0][i] = kA[i] * (p[0][i] - kC[i]) + 0.1 * sy;
  for (size_t j = 0; j < 3; ++j) g[1][j] = p[1][j] * p[1][j] * p[1][j] + 0.1 * sx;
  return g;
}

Tensor loss_of(const optim::NamedTensors& p, double scale = 1.0) {
  const Tensor &x = p[0].second, &y = p[1].second;
  Tensor loss = 0.5 * sum(from_vector<double>(kA) * square(x - from_vector<double>(kC))) +
                0.25 * sum(pow(y, 4.0)) + 0.1 * sum(x) * sum(y);
  return loss * scale;
}

double dot(const Vec& a, const Vec& b) {
  return std::inner_product(a.begin(), a.end(), b.begin(), 0.0);
}
double norm(const Vec& a) { return std::sqrt(dot(a, a)); }
double sign(double v) { return static_cast<double>((v > 0) - (v < 0)); }

optim::NamedTensors start_tensors() {
  return {{"x", from_vector<double>(kStart[0]).requires_grad_()},
          {"y", from_vector<double>(kStart[1]).requires_grad_()}};
}

optim::Closure closure_of(const optim::NamedTensors& p, double scale = 1.0) {
  return [p, scale] {
    Tensor loss = loss_of(p, scale);
    backward(loss);
    return loss;
  };
}

// Runs `name` for `steps` steps and the reference `step(params, t)` alongside, comparing each.
void compare(const std::string& name, const optim::OptionMap& options,
             const std::function<void(Params&, int64_t)>& reference, int64_t steps = 10) {
  optim::NamedTensors p = start_tensors();
  auto optimizer = optim::create(name, p, options);
  Params expected = kStart;
  for (int64_t t = 1; t <= steps; ++t) {
    optimizer->step(closure_of(p));
    reference(expected, t);
    check_values(values(p[0].second), expected[0], 1e-10, 1e-14, name + " x");
    check_values(values(p[1].second), expected[1], 1e-10, 1e-14, name + " y");
  }
}

}  // namespace

TEST_CASE("lamb: matches the paper's update, its steps do not depend on the loss's scale") {
  const double lr = 0.05, b1 = 0.9, b2 = 0.999, eps = 1e-6, wd = 0.01;
  Params m = {Vec(4), Vec(3)}, v = m;
  compare("lamb", {{"lr", lr}, {"weight_decay", wd}}, [&](Params& w, int64_t t) {
    Params g = gradient(w);
    for (size_t k = 0; k < w.size(); ++k) {
      Vec r(w[k].size());
      for (size_t i = 0; i < r.size(); ++i) {
        m[k][i] = b1 * m[k][i] + (1 - b1) * g[k][i];
        v[k][i] = b2 * v[k][i] + (1 - b2) * g[k][i] * g[k][i];
        double mh = m[k][i] / (1 - std::pow(b1, t)), vh = v[k][i] / (1 - std::pow(b2, t));
        r[i] = mh / (std::sqrt(vh) + eps) + wd * w[k][i];
      }
      double trust = norm(w[k]) / norm(r);
      for (size_t i = 0; i < r.size(); ++i) w[k][i] -= lr * trust * r[i];
    }
  });
  optim::NamedTensors p = start_tensors(), q = start_tensors();
  auto a = optim::create("lamb", p, {{"lr", 0.05}, {"eps", 0.0}});
  auto b = optim::create("lamb", q, {{"lr", 0.05}, {"eps", 0.0}});
  for (int i = 0; i < 10; ++i) {
    a->step(closure_of(p));
    b->step(closure_of(q, 1000.0));
  }
  check_values(values(q[0].second), values(p[0].second), 1e-9, 0, "lamb, loss x 1000");
}

TEST_CASE("lars: matches the paper's update, its steps do not depend on the loss's scale") {
  const double lr = 2.0, momentum = 0.9, wd = 0.01, eta = 1e-3, eps = 1e-9;
  Params buf = {Vec(4), Vec(3)};
  compare("lars", {{"lr", lr}, {"weight_decay", wd}}, [&](Params& w, int64_t) {
    Params g = gradient(w);
    for (size_t k = 0; k < w.size(); ++k) {
      double local = eta * norm(w[k]) / (norm(g[k]) + wd * norm(w[k]) + eps);
      for (size_t i = 0; i < w[k].size(); ++i) {
        buf[k][i] = momentum * buf[k][i] + lr * local * (g[k][i] + wd * w[k][i]);
        w[k][i] -= buf[k][i];
      }
    }
  });
  optim::NamedTensors p = start_tensors(), q = start_tensors();
  auto a = optim::create("lars", p, {{"lr", 2.0}, {"eps", 0.0}});
  auto b = optim::create("lars", q, {{"lr", 2.0}, {"eps", 0.0}});
  for (int i = 0; i < 10; ++i) {
    a->step(closure_of(p));
    b->step(closure_of(q, 1000.0));
  }
  check_values(values(q[1].second), values(p[1].second), 1e-9, 0, "lars, loss x 1000");
}

TEST_CASE("lion: matches the paper's update, every coordinate moves by exactly lr") {
  const double lr = 0.01, b1 = 0.9, b2 = 0.99, wd = 0.1;
  Params m = {Vec(4), Vec(3)};
  compare("lion", {{"lr", lr}, {"weight_decay", wd}}, [&](Params& w, int64_t) {
    Params g = gradient(w);
    for (size_t k = 0; k < w.size(); ++k)
      for (size_t i = 0; i < w[k].size(); ++i) {
        double c = b1 * m[k][i] + (1 - b1) * g[k][i];
        w[k][i] = w[k][i] * (1 - lr * wd) - lr * sign(c);
        m[k][i] = b2 * m[k][i] + (1 - b2) * g[k][i];
      }
  });
  optim::NamedTensors p = start_tensors();
  auto optimizer = optim::create("lion", p, {{"lr", 0.01}});
  optimizer->step(closure_of(p));
  Vec x = values(p[0].second);
  for (size_t i = 0; i < 4; ++i) CHECK(std::fabs(x[i] - kStart[0][i]) == doctest::Approx(0.01));
}

TEST_CASE("sam: matches the paper's update, plain and adaptive, with two closure runs a step") {
  for (bool adaptive : {false, true}) {
    const double lr = 0.1, rho = 0.05;
    compare("sam", {{"lr", lr}, {"rho", rho}, {"adaptive", adaptive}}, [&](Params& w, int64_t) {
      Params g = gradient(w), e = w;
      double squared = 0;
      for (size_t k = 0; k < w.size(); ++k)
        for (size_t i = 0; i < w[k].size(); ++i) {
          double t = adaptive ? std::fabs(w[k][i]) * g[k][i] : g[k][i];
          squared += t * t;
        }
      for (size_t k = 0; k < w.size(); ++k)
        for (size_t i = 0; i < w[k].size(); ++i)
          e[k][i] = w[k][i] + rho / (std::sqrt(squared) + 1e-12) *
                                  (adaptive ? w[k][i] * w[k][i] : 1.0) * g[k][i];
      Params g2 = gradient(e);
      for (size_t k = 0; k < w.size(); ++k)
        for (size_t i = 0; i < w[k].size(); ++i) w[k][i] -= lr * g2[k][i];
    });
  }
  optim::NamedTensors p = start_tensors();
  auto optimizer = optim::create("sam", p, {{"base", "adam"}, {"lr", 0.01}});
  CHECK(optimizer->name() == "sam(adam)");
  CHECK(optimizer->step(closure_of(p)).closure_calls == 2);
  CHECK_THROWS_AS(optimizer->step(), ValueError);  // SAM needs the closure
}

// With |x - c|^2 (curvature 2) and a perturbation of fixed length rho, SAM cannot settle on c:
// it ends in a 2-cycle of radius lr rho / (1 - lr) around it, which it must reach.
TEST_CASE("sam: settles around the minimum of a quadratic, within its known 2-cycle") {
  optim::NamedTensors p = {{"x", from_vector<double>({1.0, -2.0, 0.5}).requires_grad_()}};
  auto optimizer = optim::create("sam", p, {{"lr", 0.1}, {"rho", 0.05}});
  for (int i = 0; i < 300; ++i)
    optimizer->step([&] {
      Tensor loss = sum(square(p[0].second - 1.5));
      backward(loss);
      return loss;
    });
  Tensor distance = norm(p[0].second - 1.5);
  CHECK(distance.item() <= 0.1 * 0.05 / 0.9 + 1e-9);
  CHECK(distance.item() >= 0.1 * 0.05 / 0.9 - 1e-6);
}

TEST_CASE("svrg: matches the paper's update and solves least squares that SGD only nears") {
  // f(w) = 1/n sum_i 1/2 (a_i . w - b_i)^2 over 8 rows, one row per step, cycling.
  const int64_t n = 8, d = 3;
  Vec rows, targets;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t k = 0; k < d; ++k) {
      auto fi = static_cast<double>(i), fk = static_cast<double>(k);
      rows.push_back(std::sin(0.5 + 1.3 * fi + 2.1 * fk + 0.37 * fi * fk));
    }
    targets.push_back(std::cos(0.9 * static_cast<double>(i)));
  }
  auto row_gradient = [&](const Vec& w, int64_t i) {
    double r = -targets[i];
    for (int64_t k = 0; k < d; ++k) r += rows[i * d + k] * w[k];
    Vec g(d);
    for (int64_t k = 0; k < d; ++k) g[k] = r * rows[i * d + k];
    return g;
  };
  auto full_gradient = [&](const Vec& w) {
    Vec g(d);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < d; ++k) g[k] += row_gradient(w, i)[k] / static_cast<double>(n);
    return g;
  };

  auto run = [&](const std::string& name, int64_t steps) {
    Tensor w = zeros({d}, {.dtype = kFloat64}).requires_grad_();
    Tensor a = from_vector<double>(rows, {n, d}), b = from_vector<double>(targets);
    int64_t row = 0;
    auto optimizer =
        optim::create(name, optim::NamedTensors{{"w", w}}, {{"lr", 0.3}, {"snapshot_every", n}});
    optim::Svrg& svrg = optim::svrg_oracle(*optimizer);
    svrg.set_full_loss([&] {
      Tensor loss = 0.5 * mean(square(matmul(a, w) - b));
      backward(loss);
      return loss;
    });
    optim::Closure one_row = [&] {
      Tensor loss = 0.5 * square(sum(select(a, 0, row) * w) - select(b, 0, row));
      backward(loss);
      return loss;
    };
    // The reference: a snapshot every n steps, then w -= lr (g_i(w) - g_i(w~) + mu).
    Vec expected(d), snapshot, mu;
    for (int64_t t = 0; t < steps; ++t) {
      row = t % n;
      if (t % n == 0) snapshot = expected, mu = full_gradient(expected);
      Vec gw = row_gradient(expected, row), gs = row_gradient(snapshot, row);
      for (int64_t k = 0; k < d; ++k) expected[k] -= 0.3 * (gw[k] - gs[k] + mu[k]);
      CHECK(optimizer->step(one_row).closure_calls == 2);
      check_values(values(w), expected, 1e-9, 1e-14, "svrg w");
    }
    return values(w);
  };
  Vec w = run("svrg", 1600);

  // The least-squares answer, from the normal equations A^T A w = A^T b (3 x 3, Cramer's rule).
  double m[3][3] = {}, r[3] = {};
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) {
      r[j] += rows[i * d + j] * targets[i];
      for (int64_t k = 0; k < d; ++k) m[j][k] += rows[i * d + j] * rows[i * d + k];
    }
  auto det = [](double q[3][3]) {
    return q[0][0] * (q[1][1] * q[2][2] - q[1][2] * q[2][1]) -
           q[0][1] * (q[1][0] * q[2][2] - q[1][2] * q[2][0]) +
           q[0][2] * (q[1][0] * q[2][1] - q[1][1] * q[2][0]);
  };
  double whole = det(m);
  for (int64_t k = 0; k < d; ++k) {
    double replaced[3][3];
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 3; ++j) replaced[i][j] = j == k ? r[i] : m[i][j];
    CHECK(std::fabs(w[k] - det(replaced) / whole) < 1e-10);
  }

  // Plain SGD with the same lr keeps bouncing between the rows' own minima.
  Tensor s = zeros({d}, {.dtype = kFloat64}).requires_grad_();
  Tensor a = from_vector<double>(rows, {n, d}), b = from_vector<double>(targets);
  auto sgd = optim::create("sgd", optim::NamedTensors{{"w", s}}, {{"lr", 0.3}});
  for (int64_t t = 0; t < 1600; ++t) {
    int64_t row = t % n;
    sgd->step([&] {
      Tensor loss = 0.5 * square(sum(select(a, 0, row) * s) - select(b, 0, row));
      backward(loss);
      return loss;
    });
  }
  double sgd_error = 0;
  for (int64_t k = 0; k < d; ++k) sgd_error = std::max(sgd_error, std::fabs(values(s)[k] - w[k]));
  CHECK(sgd_error > 1e-2);
}

TEST_CASE("proximal: matches soft-thresholding and group shrinkage, solves the lasso exactly") {
  const double lr = 0.05, l1 = 0.3, group = 0.2;
  compare("proximal", {{"lr", lr}, {"l1", l1}, {"group_lasso", group}}, [&](Params& w, int64_t) {
    Params g = gradient(w);
    for (size_t k = 0; k < w.size(); ++k) {
      for (size_t i = 0; i < w[k].size(); ++i) {
        double z = w[k][i] - lr * g[k][i];
        w[k][i] = sign(z) * std::max(std::fabs(z) - lr * l1, 0.0);
      }
      double scale = std::max(0.0, 1 - lr * group / norm(w[k]));  // a 1-d tensor is one group
      for (double& v : w[k]) v *= scale;
    }
  });

  // 1/2 |x - z|^2 + l1 |x|_1: the answer is z soft-thresholded by l1.
  Tensor z = from_vector<double>({2.0, -0.1, 0.5, -3.0, 0.25});
  Tensor x = zeros({5}, {.dtype = kFloat64}).requires_grad_();
  auto lasso = optim::create("proximal", optim::NamedTensors{{"x", x}}, {{"lr", 0.5}, {"l1", 0.3}});
  for (int i = 0; i < 60; ++i)
    lasso->step([&] {
      Tensor loss = 0.5 * sum(square(x - z));
      backward(loss);
      return loss;
    });
  check_values(values(x), {1.7, 0.0, 0.2, -2.7, 0.0}, 1e-12, 1e-12, "lasso");

  // Group lasso over the rows of a [3, 2] matrix: each row shrinks by lambda in norm, or to 0.
  Tensor zm = from_vector<double>({3.0, 4.0, 0.3, 0.4, -0.6, 0.8}, {3, 2});
  Tensor xm = zeros({3, 2}, {.dtype = kFloat64}).requires_grad_();
  auto grouped = optim::create("proximal", optim::NamedTensors{{"x", xm}},
                               {{"lr", 0.5}, {"group_lasso", 1.0}});
  for (int i = 0; i < 80; ++i)
    grouped->step([&] {
      Tensor loss = 0.5 * sum(square(xm - zm));
      backward(loss);
      return loss;
    });
  check_values(values(xm), {2.4, 3.2, 0.0, 0.0, 0.0, 0.0}, 1e-10, 1e-12, "group lasso");
}

TEST_CASE("hypergradient: SGD-HD and Adam-HD match the paper and learn their learning rate") {
  const double hg = 0.01;
  Params previous;
  double lr = 0.01;
  compare("sgd_hd", {{"lr", 0.01}, {"hypergrad_lr", hg}}, [&](Params& w, int64_t) {
    Params g = gradient(w);
    if (!previous.empty()) lr += hg * (dot(g[0], previous[0]) + dot(g[1], previous[1]));
    for (size_t k = 0; k < w.size(); ++k)
      for (size_t i = 0; i < w[k].size(); ++i) w[k][i] -= lr * g[k][i];
    previous = g;
  });

  const double b1 = 0.9, b2 = 0.999, eps = 1e-8, adam_hg = 1e-4;
  Params m = {Vec(4), Vec(3)}, v = m;
  previous.clear();
  lr = 0.01;
  compare("adam_hd", {{"lr", 0.01}, {"hypergrad_lr", adam_hg}}, [&](Params& w, int64_t t) {
    Params g = gradient(w), u = w;
    if (!previous.empty()) lr += adam_hg * (dot(g[0], previous[0]) + dot(g[1], previous[1]));
    for (size_t k = 0; k < w.size(); ++k)
      for (size_t i = 0; i < w[k].size(); ++i) {
        m[k][i] = b1 * m[k][i] + (1 - b1) * g[k][i];
        v[k][i] = b2 * v[k][i] + (1 - b2) * g[k][i] * g[k][i];
        u[k][i] =
            m[k][i] / (1 - std::pow(b1, t)) / (std::sqrt(v[k][i] / (1 - std::pow(b2, t))) + eps);
        w[k][i] -= lr * u[k][i];
      }
    previous = u;
  });

  // On 1/2 a x^2 from a learning rate far too small, SGD-HD raises it towards 1/a (where one
  // step would land on the minimum) and gets there long before plain SGD does.
  auto steps_to_converge = [](const std::string& name) {
    Tensor x = from_vector<double>({1.0}).requires_grad_();
    auto optimizer = optim::create(name, optim::NamedTensors{{"x", x}}, {{"lr", 1e-3}});
    if (name == "sgd_hd") optimizer->set_option(0, "hypergrad_lr", 0.01);
    for (int step = 1; step <= 5000; ++step) {
      optimizer->step([&] {
        Tensor loss = 0.5 * 4.0 * square(sum(x));
        backward(loss);
        return loss;
      });
      if (std::fabs(values(x)[0]) < 1e-6) return std::pair{step, optimizer->lr()};
    }
    return std::pair{5001, optimizer->lr()};
  };
  auto [hd_steps, learned] = steps_to_converge("sgd_hd");
  auto [sgd_steps, fixed] = steps_to_converge("sgd");
  CHECK(hd_steps < 30);
  CHECK(sgd_steps > 1000);
  CHECK(learned == doctest::Approx(0.25).epsilon(0.2));
  CHECK(fixed == 1e-3);
}

TEST_CASE("exponentiated gradient: matches the multiplicative update and finds softmax(-c)") {
  const double lr = 0.3;
  compare("exponentiated_gradient", {{"lr", lr}}, [&](Params& w, int64_t) {
    Params g = gradient(w);
    for (size_t k = 0; k < w.size(); ++k) {
      double total = 0;
      for (size_t i = 0; i < w[k].size(); ++i) total += w[k][i] *= std::exp(-lr * g[k][i]);
      for (double& v : w[k]) v /= total;
    }
  });

  // min_w c . w + sum w log w over the simplex is softmax(-c).
  const Vec c = {0.5, -1.0, 2.0, 0.0};
  Tensor w = full({4}, 0.25, {.dtype = kFloat64}).requires_grad_();
  auto optimizer =
      optim::create("exponentiated_gradient", optim::NamedTensors{{"w", w}}, {{"lr", 0.5}});
  for (int i = 0; i < 200; ++i)
    optimizer->step([&] {
      Tensor loss = sum(from_vector<double>(c) * w) + sum(w * log(w));
      backward(loss);
      return loss;
    });
  double z = 0;
  for (double ci : c) z += std::exp(-ci);
  Vec expected;
  for (double ci : c) expected.push_back(std::exp(-ci) / z);
  check_values(values(w), expected, 1e-9, 0, "softmax(-c)");
  CHECK(sum(w).item() == doctest::Approx(1.0).epsilon(1e-15));

  Tensor bad = from_vector<double>({0.5, 0.5, 0.0}).requires_grad_();
  auto rejecting = optim::create("exponentiated_gradient", optim::NamedTensors{{"w", bad}});
  CHECK_THROWS_AS(rejecting->step([&] {
    Tensor loss = sum(bad);
    backward(loss);
    return loss;
  }),
                  ValueError);
}
