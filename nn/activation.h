// Activations, as functions and as modules. ReLU, sigmoid and tanh are autograd primitives; the
// rest are compositions of differentiable ops, so their higher-order gradients come free.
#pragma once

#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "nn/module.h"

namespace nabla::nn {

enum class GeluApproximation { none, tanh };

// x for x > 0, slope * x otherwise.
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
// x for x > 0, alpha * (exp(x) - 1) otherwise.
Tensor elu(const Tensor& x, double alpha = 1.0);
// x * Phi(x), with Phi the standard normal CDF (erf form) or its tanh approximation.
Tensor gelu(const Tensor& x, GeluApproximation approximation = GeluApproximation::none);
// x * sigmoid(x), also called Swish.
Tensor silu(const Tensor& x);
// x * tanh(softplus(x)).
Tensor mish(const Tensor& x);
// log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold (as PyTorch does).
Tensor softplus(const Tensor& x, double beta = 1.0, double threshold = 20.0);

// One module class per activation; each holds only its settings.
class ReLU : public Module {
 public:
  ReLU() : Module("ReLU") {}
  Tensor forward(const Tensor& x) override { return relu(x); }
};

class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double negative_slope = 0.01)
      : Module("LeakyReLU"), negative_slope_(negative_slope) {}
  Tensor forward(const Tensor& x) override { return leaky_relu(x, negative_slope_); }

 protected:
  std::string extra_repr() const override;

 private:
  double negative_slope_;
};

class ELU : public Module {
 public:
  explicit ELU(double alpha = 1.0) : Module("ELU"), alpha_(alpha) {}
  Tensor forward(const Tensor& x) override { return elu(x, alpha_); }

 protected:
  std::string extra_repr() const override;

 private:
  double alpha_;
};

class GELU : public Module {
 public:
  explicit GELU(GeluApproximation approximation = GeluApproximation::none)
      : Module("GELU"), approximation_(approximation) {}
  Tensor forward(const Tensor& x) override { return gelu(x, approximation_); }

 protected:
  std::string extra_repr() const override;

 private:
  GeluApproximation approximation_;
};

class SiLU : public Module {
 public:
  SiLU() : Module("SiLU") {}
  Tensor forward(const Tensor& x) override { return silu(x); }
};
using Swish = SiLU;

class Mish : public Module {
 public:
  Mish() : Module("Mish") {}
  Tensor forward(const Tensor& x) override { return mish(x); }
};

class Tanh : public Module {
 public:
  Tanh() : Module("Tanh") {}
  Tensor forward(const Tensor& x) override { return tanh(x); }
};

class Sigmoid : public Module {
 public:
  Sigmoid() : Module("Sigmoid") {}
  Tensor forward(const Tensor& x) override { return sigmoid(x); }
};

class Softplus : public Module {
 public:
  explicit Softplus(double beta = 1.0, double threshold = 20.0)
      : Module("Softplus"), beta_(beta), threshold_(threshold) {}
  Tensor forward(const Tensor& x) override { return softplus(x, beta_, threshold_); }

 protected:
  std::string extra_repr() const override;

 private:
  double beta_, threshold_;
};

class Softmax : public Module {
 public:
  explicit Softmax(int64_t dim = -1) : Module("Softmax"), dim_(dim) {}
  Tensor forward(const Tensor& x) override { return softmax(x, dim_); }

 protected:
  std::string extra_repr() const override;

 private:
  int64_t dim_;
};

class LogSoftmax : public Module {
 public:
  explicit LogSoftmax(int64_t dim = -1) : Module("LogSoftmax"), dim_(dim) {}
  Tensor forward(const Tensor& x) override { return log_softmax(x, dim_); }

 protected:
  std::string extra_repr() const override;

 private:
  int64_t dim_;
};

// An activation module by name ("relu", "gelu", "silu", ...): for MLP, models and the CLI.
std::shared_ptr<Module> make_activation(const std::string& name);

}  // namespace nabla::nn
