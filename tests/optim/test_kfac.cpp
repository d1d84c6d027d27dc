// K-FAC and the empirical-Fisher natural gradient on tiny float64 networks: the Kronecker factors
// against factors built from per-example quantities, the preconditioned step against an explicit
// dense solve, training speed against SGD, resuming, and the plain-parameter fallback.
#include <doctest/doctest.h>

#include <cmath>
#include <map>

#include "autograd/engine.h"
#include "autograd/hooks.h"
#include "autograd/ops.h"
#include "core/generator.h"
#include "nn/activation.h"
#include "nn/containers.h"
#include "nn/conv.h"
#include "nn/linear.h"
#include "optim/kfac.h"
#include "optim/registry.h"
#include "optim/state_dict.h"
#include "problems.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::testing;

namespace {

using Matrix = std::vector<std::vector<double>>;

// conv (2 -> 3 channels, 3x3, stride 2, padding 1) on [N, 2, 5, 5] gives [N, 3, 3, 3]; tanh;
// flatten to 27; fc to 4. The loss is the batch mean of 1/2 |out - target|^2.
struct TinyNet {
  std::shared_ptr<nn::Conv2d> conv;
  std::shared_ptr<nn::Linear> fc;
  std::shared_ptr<nn::Sequential> model;

  TinyNet() {
    manual_seed(7);
    conv = std::make_shared<nn::Conv2d>(2, 3, 3, nn::Conv2dOptions{.stride = 2, .padding = 1});
    fc = std::make_shared<nn::Linear>(27, 4);
    model = std::make_shared<nn::Sequential>();
    model->push_back("conv", conv)
        .push_back("act", std::make_shared<nn::Tanh>())
        .push_back("flat", std::make_shared<nn::Flatten>())
        .push_back("fc", fc);
    model->to(kFloat64);
  }
};

constexpr int64_t kExamples = 3;

Tensor inputs() {
  std::vector<double> v(kExamples * 2 * 5 * 5);
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(0.37 * static_cast<double>(i) + 0.2);
  return from_vector<double>(v, {kExamples, 2, 5, 5});
}

Tensor targets() {
  std::vector<double> v(kExamples * 4);
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::cos(0.91 * static_cast<double>(i));
  return from_vector<double>(v, {kExamples, 4});
}

Tensor batch_loss(nn::Module& model, const Tensor& x, const Tensor& y) {
  return 0.5 * sum(square(model(x) - y)) / static_cast<double>(x.size(0));
}

optim::Closure closure_for(nn::Module& model, const Tensor& x, const Tensor& y) {
  return [&model, x, y] {
    Tensor loss = batch_loss(model, x, y);
    backward(loss);
    return loss;
  };
}

// One example's quantities, computed alone (the network has no batch statistics):
struct PerExample {
  std::vector<double> conv_patches;  // [9 positions][18 + 1]
  std::vector<double> conv_grad;     // d loss_n / d conv output, [3 channels][9 positions]
  std::vector<double> fc_input;      // [27 + 1]
  std::vector<double> fc_grad;       // d loss_n / d fc output, [4]
  std::vector<double> gradient;      // d loss_n / d (conv [3, 19], then fc [4, 28]), row-major
};

PerExample per_example(TinyNet& net, const Tensor& x, const Tensor& y, int64_t n) {
  PerExample e;
  std::vector<double> image = values(select(x, 0, n));  // [2, 5, 5]
  for (int64_t oh = 0; oh < 3; ++oh)
    for (int64_t ow = 0; ow < 3; ++ow) {
      for (int64_t c = 0; c < 2; ++c)
        for (int64_t ki = 0; ki < 3; ++ki)
          for (int64_t kj = 0; kj < 3; ++kj) {
            int64_t ih = oh * 2 - 1 + ki, iw = ow * 2 - 1 + kj;
            bool inside = ih >= 0 && ih < 5 && iw >= 0 && iw < 5;
            e.conv_patches.push_back(inside ? image[(c * 5 + ih) * 5 + iw] : 0.0);
          }
      e.conv_patches.push_back(1.0);
    }
  net.model->eval();  // the optimizer's hooks record nothing in eval mode
  net.model->zero_grad();
  Tensor xn = slice(x, 0, n, n + 1), yn = slice(y, 0, n, n + 1);
  Tensor s1 = (*net.conv)(xn);
  Tensor h = flatten(tanh(s1), 1);
  Tensor s2 = (*net.fc)(h);
  retain_grad(s1);
  retain_grad(s2);
  backward(0.5 * sum(square(s2 - yn)));
  e.conv_grad = values(s1.grad());
  e.fc_input = values(h);
  e.fc_input.push_back(1.0);
  e.fc_grad = values(s2.grad());
  std::vector<double> cw = values(net.conv->weight().grad()), cb = values(net.conv->bias().grad());
  std::vector<double> fw = values(net.fc->weight().grad()), fb = values(net.fc->bias().grad());
  for (int64_t o = 0; o < 3; ++o) {
    e.gradient.insert(e.gradient.end(), cw.begin() + o * 18, cw.begin() + (o + 1) * 18);
    e.gradient.push_back(cb[o]);
  }
  for (int64_t o = 0; o < 4; ++o) {
    e.gradient.insert(e.gradient.end(), fw.begin() + o * 27, fw.begin() + (o + 1) * 27);
    e.gradient.push_back(fb[o]);
  }
  net.model->zero_grad();
  net.model->train();
  return e;
}

// The conv's and fc's factors from per-example quantities: A = 1/(N T) sum a a^T,
// G = 1/N sum_{n,t} g g^T with g the gradient of the example's own loss.
struct Factors {
  Matrix conv_a = Matrix(19, std::vector<double>(19));
  Matrix conv_g = Matrix(3, std::vector<double>(3));
  Matrix fc_a = Matrix(28, std::vector<double>(28));
  Matrix fc_g = Matrix(4, std::vector<double>(4));
};

Factors explicit_factors(const std::vector<PerExample>& examples) {
  Factors f;
  const double n = static_cast<double>(examples.size()), positions = 9;
  for (const PerExample& e : examples) {
    for (int64_t t = 0; t < 9; ++t) {
      for (int64_t i = 0; i < 19; ++i)
        for (int64_t j = 0; j < 19; ++j)
          f.conv_a[i][j] +=
              e.conv_patches[t * 19 + i] * e.conv_patches[t * 19 + j] / (n * positions);
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t j = 0; j < 3; ++j)
          f.conv_g[i][j] += e.conv_grad[i * 9 + t] * e.conv_grad[j * 9 + t] / n;
    }
    for (int64_t i = 0; i < 28; ++i)
      for (int64_t j = 0; j < 28; ++j) f.fc_a[i][j] += e.fc_input[i] * e.fc_input[j] / n;
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t j = 0; j < 4; ++j) f.fc_g[i][j] += e.fc_grad[i] * e.fc_grad[j] / n;
  }
  return f;
}

void check_matrix(const Tensor& got, const Matrix& expected) {
  std::vector<double> v = values(got);
  REQUIRE(v.size() == expected.size() * expected.size());
  double scale = 0, worst = 0;
  for (size_t i = 0; i < expected.size(); ++i)
    for (size_t j = 0; j < expected.size(); ++j) {
      scale = std::max(scale, std::fabs(expected[i][j]));
      worst = std::max(worst, std::fabs(v[i * expected.size() + j] - expected[i][j]));
    }
  CHECK(scale > 0);
  CHECK(worst <= 1e-12 * scale);
}

Matrix to_matrix(const Tensor& t) {
  const int64_t n = t.size(0);
  std::vector<double> v = values(t);
  Matrix m(n, std::vector<double>(n));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) m[i][j] = v[i * n + j];
  return m;
}

// Solves m x = b by Gaussian elimination with partial pivoting.
std::vector<double> solve(Matrix m, std::vector<double> b) {
  const size_t n = b.size();
  for (size_t k = 0; k < n; ++k) {
    size_t pivot = k;
    for (size_t i = k + 1; i < n; ++i)
      if (std::fabs(m[i][k]) > std::fabs(m[pivot][k])) pivot = i;
    std::swap(m[k], m[pivot]);
    std::swap(b[k], b[pivot]);
    for (size_t i = k + 1; i < n; ++i) {
      double f = m[i][k] / m[k][k];
      for (size_t j = k; j < n; ++j) m[i][j] -= f * m[k][j];
      b[i] -= f * b[k];
    }
  }
  std::vector<double> x(n);
  for (size_t k = n; k-- > 0;) {
    double s = b[k];
    for (size_t j = k + 1; j < n; ++j) s -= m[k][j] * x[j];
    x[k] = s / m[k][k];
  }
  return x;
}

// A layer's parameters as one matrix [out, columns] (weight, then bias as the last column).
std::vector<double> layer_matrix(const Tensor& weight, const Tensor& bias) {
  const int64_t out = weight.size(0), in = weight.numel() / out;
  std::vector<double> w = values(weight), b = values(bias), m;
  for (int64_t o = 0; o < out; ++o) {
    m.insert(m.end(), w.begin() + o * in, w.begin() + (o + 1) * in);
    m.push_back(b[o]);
  }
  return m;
}

double max_relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
  double scale = 0, worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    scale = std::max(scale, std::fabs(b[i]));
    worst = std::max(worst, std::fabs(a[i] - b[i]));
  }
  return worst / scale;
}

}  // namespace

TEST_CASE("kfac: the factors match factors built from per-example inputs and gradients") {
  TinyNet net;
  Tensor x = inputs(), y = targets();
  std::vector<PerExample> examples;
  for (int64_t n = 0; n < kExamples; ++n) examples.push_back(per_example(net, x, y, n));
  Factors expected = explicit_factors(examples);

  auto optimizer = optim::create("kfac", net.model->named_parameters(), {{"lr", 0.0}});
  REQUIRE(optim::attach_model(*optimizer, *net.model));
  auto& kfac = dynamic_cast<optim::LayerCurvatureOptimizer&>(*optimizer);
  CHECK(kfac.tracked_weights() == std::vector<std::string>{"conv.weight", "fc.weight"});
  optimizer->step(closure_for(*net.model, x, y));
  const optim::State* conv = optimizer->state("conv.weight");
  const optim::State* fc = optimizer->state("fc.weight");
  check_matrix(conv->find("factor_a"), expected.conv_a);
  check_matrix(conv->find("factor_g"), expected.conv_g);
  check_matrix(fc->find("factor_a"), expected.fc_a);
  check_matrix(fc->find("factor_g"), expected.fc_g);
  // Biases travel with their weights: no factors of their own.
  CHECK_FALSE(optimizer->state("fc.bias")->find("factor_a").defined());
}

TEST_CASE("kfac: the step is the damped Kronecker solve, exact or with pi-split damping") {
  for (std::string mode : {"exact", "factored"}) {
    CAPTURE(mode);
    TinyNet net;
    Tensor x = inputs(), y = targets();
    const double damping = 0.05;
    auto optimizer = optim::create("kfac", net.model->named_parameters(),
                                   {{"lr", 1.0},
                                    {"momentum", 0.0},
                                    {"kl_clip", 0.0},
                                    {"damping", damping},
                                    {"damping_mode", mode}});
    optim::attach_model(*optimizer, *net.model);
    // The gradient at the start, then one step from there.
    std::vector<std::vector<double>> before, grads;
    for (const auto& layer : {std::pair{net.conv->weight(), net.conv->bias()},
                              std::pair{net.fc->weight(), net.fc->bias()}})
      before.push_back(layer_matrix(layer.first, layer.second));
    optimizer->step([&] {
      Tensor loss = batch_loss(*net.model, x, y);
      backward(loss);
      grads.clear();
      grads.push_back(layer_matrix(net.conv->weight().grad(), net.conv->bias().grad()));
      grads.push_back(layer_matrix(net.fc->weight().grad(), net.fc->bias().grad()));
      return loss;
    });
    std::vector<std::pair<Tensor, Tensor>> layers = {{net.conv->weight(), net.conv->bias()},
                                                     {net.fc->weight(), net.fc->bias()}};
    std::vector<std::string> names = {"conv.weight", "fc.weight"};
    for (size_t l = 0; l < 2; ++l) {
      Matrix a = to_matrix(optimizer->state(names[l])->find("factor_a"));
      Matrix g = to_matrix(optimizer->state(names[l])->find("factor_g"));
      const size_t out = g.size(), columns = a.size(), size = out * columns;
      double pi = 1, gamma = std::sqrt(damping);
      if (mode == "factored") {
        double trace_a = 0, trace_g = 0;
        for (size_t i = 0; i < columns; ++i) trace_a += a[i][i];
        for (size_t i = 0; i < out; ++i) trace_g += g[i][i];
        pi = std::sqrt((trace_a / columns) / (trace_g / out));
        for (size_t i = 0; i < columns; ++i) a[i][i] += pi * gamma;
        for (size_t i = 0; i < out; ++i) g[i][i] += gamma / pi;
      }
      // (A kron G) acting on vec(V), V [out, columns] stacked by columns: entry
      // (j out + i, l out + k) is A[j][l] G[i][k].
      Matrix kron(size, std::vector<double>(size));
      for (size_t j = 0; j < columns; ++j)
        for (size_t i = 0; i < out; ++i)
          for (size_t l = 0; l < columns; ++l)
            for (size_t k = 0; k < out; ++k) kron[j * out + i][l * out + k] = a[j][l] * g[i][k];
      if (mode == "exact")
        for (size_t i = 0; i < size; ++i) kron[i][i] += damping;
      std::vector<double> rhs(size);
      for (size_t i = 0; i < out; ++i)
        for (size_t j = 0; j < columns; ++j) rhs[j * out + i] = grads[l][i * columns + j];
      std::vector<double> expected = solve(kron, rhs);
      std::vector<double> after = layer_matrix(layers[l].first, layers[l].second), got(size);
      for (size_t i = 0; i < out; ++i)
        for (size_t j = 0; j < columns; ++j)
          got[j * out + i] = before[l][i * columns + j] - after[i * columns + j];
      double error = max_relative_difference(got, expected);
      MESSAGE(mode, " ", names[l], ": largest difference ", error, " of the largest step");
      CHECK(error < 1e-9);
    }
  }
}

TEST_CASE("natural_gradient: the step solves the damped empirical Fisher of per-example grads") {
  TinyNet net;
  Tensor x = inputs(), y = targets();
  std::vector<PerExample> examples;
  for (int64_t n = 0; n < kExamples; ++n) examples.push_back(per_example(net, x, y, n));
  const size_t size = examples[0].gradient.size();  // 3 * 19 + 4 * 28
  const double damping = 0.05, count = kExamples;
  Matrix fisher(size, std::vector<double>(size));
  std::vector<double> mean_gradient(size);
  for (const PerExample& e : examples)
    for (size_t i = 0; i < size; ++i) {
      mean_gradient[i] += e.gradient[i] / count;
      for (size_t j = 0; j < size; ++j) fisher[i][j] += e.gradient[i] * e.gradient[j] / count;
    }
  for (size_t i = 0; i < size; ++i) fisher[i][i] += damping;
  std::vector<double> expected = solve(fisher, mean_gradient);

  auto optimizer =
      optim::create("natural_gradient", net.model->named_parameters(),
                    {{"lr", 1.0}, {"momentum", 0.0}, {"kl_clip", 0.0}, {"damping", damping}});
  optim::attach_model(*optimizer, *net.model);
  std::vector<double> before = layer_matrix(net.conv->weight(), net.conv->bias());
  std::vector<double> fc_before = layer_matrix(net.fc->weight(), net.fc->bias());
  before.insert(before.end(), fc_before.begin(), fc_before.end());
  optimizer->step(closure_for(*net.model, x, y));
  std::vector<double> after = layer_matrix(net.conv->weight(), net.conv->bias());
  std::vector<double> fc_after = layer_matrix(net.fc->weight(), net.fc->bias());
  after.insert(after.end(), fc_after.begin(), fc_after.end());
  std::vector<double> step(size);
  for (size_t i = 0; i < size; ++i) step[i] = before[i] - after[i];
  double error = max_relative_difference(step, expected);
  MESSAGE("natural gradient: largest difference ", error, " of the largest step");
  CHECK(error < 1e-9);
}

TEST_CASE("natural_gradient: a model above max_params is refused, naming the limit") {
  TinyNet net;  // 3 * 19 + 4 * 28 = 169 parameters in tracked layers
  auto optimizer =
      optim::create("natural_gradient", net.model->named_parameters(), {{"max_params", 100}});
  std::string message = error_of([&] { optim::attach_model(*optimizer, *net.model); });
  CHECK(message.find("natural_gradient: the tracked layers of a group have 169 parameters, above "
                     "max_params = 100") == 0);
  // Refused, the optimizer tracks nothing and steps as SGD with momentum.
  CHECK(dynamic_cast<optim::LayerCurvatureOptimizer&>(*optimizer).tracked_weights().empty());
}

TEST_CASE("kfac: trains a small MLP on a fixed batch faster per step than SGD at the same lr") {
  // 8 -> 16 -> 4 with tanh on 32 examples, float64, fitting a one-layer teacher y = tanh(x T);
  // both start from the same weights.
  std::vector<double> xv(32 * 8), tv(8 * 4);
  for (size_t i = 0; i < xv.size(); ++i) xv[i] = std::sin(0.61 * static_cast<double>(i));
  for (size_t i = 0; i < tv.size(); ++i) tv[i] = std::cos(1.37 * static_cast<double>(i));
  Tensor x = from_vector<double>(xv, {32, 8});
  Tensor y = tanh(matmul(x, from_vector<double>(tv, {8, 4})));
  auto mlp = [] {
    manual_seed(3);
    auto m = nn::sequential({std::make_shared<nn::Linear>(8, 16), std::make_shared<nn::Tanh>(),
                             std::make_shared<nn::Linear>(16, 4)});
    m->to(kFloat64);
    return m;
  };
  const double lr = 0.1;
  const int steps = 30;
  std::map<std::string, double> final_loss;
  for (std::string name : {"sgd", "kfac"}) {
    auto model = mlp();
    // Both without momentum; K-FAC's curvature fresh every step and its KL clip off, so the
    // comparison is of the preconditioning alone.
    optim::OptionMap options = {{"lr", lr}};
    if (name == "kfac")
      options = {{"lr", lr},
                 {"momentum", 0.0},
                 {"damping", 1e-2},
                 {"update_interval", 1},
                 {"kl_clip", 0.0}};
    auto optimizer = optim::create(name, model->named_parameters(), options);
    optim::attach_model(*optimizer, *model);
    double first = 0;
    for (int i = 0; i < steps; ++i) {
      double loss = optimizer->step(closure_for(*model, x, y)).loss.item();
      if (i == 0) first = loss;
    }
    final_loss[name] = batch_loss(*model, x, y).item();
    MESSAGE(name, " at lr ", lr, ": loss ", first, " -> ", final_loss[name], " in ", steps,
            " steps");
  }
  CHECK(final_loss["kfac"] < 0.25 * final_loss["sgd"]);
}

TEST_CASE("kfac: a state dict round-trips with the model attached, and resuming continues") {
  Tensor x = inputs(), y = targets();
  const optim::OptionMap options = {{"lr", 0.05}, {"update_interval", 2}};
  TinyNet straight, paused;
  auto a = optim::create("kfac", straight.model->named_parameters(), options);
  auto b = optim::create("kfac", paused.model->named_parameters(), options);
  optim::attach_model(*a, *straight.model);
  optim::attach_model(*b, *paused.model);
  for (int i = 0; i < 3; ++i) {
    a->step(closure_for(*straight.model, x, y));
    b->step(closure_for(*paused.model, x, y));
  }
  optim::StateDict saved = b->state_dict();
  saved.json = nlohmann::json::parse(saved.json.dump());
  CHECK(saved.tensor("fc.weight.factor_a").defined());
  CHECK(saved.tensor("conv.weight.eigvec_g").defined());

  TinyNet resumed;
  resumed.model->load_state_dict(paused.model->state_dict());
  auto c = optim::create("kfac", resumed.model->named_parameters(), options);
  optim::attach_model(*c, *resumed.model);
  CHECK(c->load_state_dict(saved, /*strict=*/true).ok());
  for (int i = 0; i < 3; ++i) {
    a->step(closure_for(*straight.model, x, y));
    c->step(closure_for(*resumed.model, x, y));
  }
  for (const auto& [name, p] : straight.model->named_parameters()) {
    CAPTURE(name);
    Tensor other;
    for (const auto& [n, q] : resumed.model->named_parameters())
      if (n == name) other = q;
    CHECK(values(p) == values(other));
  }
}

TEST_CASE("kfac: without layers, or in eval mode, it steps as SGD with momentum") {
  // Plain tensors: the same trajectory as sgd with the same momentum and weight decay.
  Problem problem = quadratic();
  optim::NamedTensors p = problem.start(), q = problem.start();
  const optim::OptionMap common = {{"lr", 0.05}, {"momentum", 0.9}, {"weight_decay", 0.01}};
  auto kfac = optim::create("kfac", p, common), sgd = optim::create("sgd", q, common);
  for (int i = 0; i < 10; ++i) {
    kfac->step([&] {
      Tensor loss = problem.loss(p);
      backward(loss);
      return loss;
    });
    sgd->step([&] {
      Tensor loss = problem.loss(q);
      backward(loss);
      return loss;
    });
  }
  CHECK(values(p[0].second) == values(q[0].second));

  // A model in eval mode records nothing, so no factors appear.
  TinyNet net;
  auto optimizer = optim::create("kfac", net.model->named_parameters());
  optim::attach_model(*optimizer, *net.model);
  net.model->eval();
  optimizer->step(closure_for(*net.model, inputs(), targets()));
  CHECK_FALSE(optimizer->state("fc.weight")->find("factor_a").defined());
  CHECK(optimizer->state("fc.weight")->find("momentum_buffer").defined());

  // Detached, it tracks nothing; destroyed, its hooks stay on the model but record nothing.
  auto& layered = dynamic_cast<optim::LayerCurvatureOptimizer&>(*optimizer);
  layered.detach();
  CHECK(layered.tracked_weights().empty());
  auto gone = optim::create("kfac", net.model->named_parameters());
  optim::attach_model(*gone, *net.model);
  gone.reset();
  net.model->train();
  net.model->zero_grad();
  backward(batch_loss(*net.model, inputs(), targets()));
  CHECK(net.fc->weight().grad().defined());
}
