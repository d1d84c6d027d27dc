// Activations composed from differentiable ops; each keeps its unselected branch finite, since
// `where` still sends a (zero) gradient through it and 0 * inf would be NaN.
#include "nn/activation.h"

#include <cmath>
#include <functional>
#include <map>
#include <numbers>
#include <sstream>

#include "core/error.h"

namespace nabla::nn {

Tensor leaky_relu(const Tensor& x, double negative_slope) {
  return where(gt(x, 0.0), x, mul(x, negative_slope));
}

Tensor elu(const Tensor& x, double alpha) {
  return where(gt(x, 0.0), x, mul(expm1(clamp_max(x, 0.0)), alpha));
}

Tensor gelu(const Tensor& x, GeluApproximation approximation) {
  if (approximation == GeluApproximation::tanh) {
    const double k = std::sqrt(2.0 / std::numbers::pi);
    Tensor inner = mul(add(x, mul(pow(x, 3.0), 0.044715)), k);
    return mul(mul(x, 0.5), add(tanh(inner), 1.0));
  }
  return nabla::gelu(x);
}

Tensor silu(const Tensor& x) { return mul(x, sigmoid(x)); }

Tensor mish(const Tensor& x) { return mul(x, tanh(softplus(x))); }

Tensor softplus(const Tensor& x, double beta, double threshold) {
  NABLA_CHECK(beta > 0, ValueError, "softplus: beta must be positive, got ", beta);
  Tensor scaled = mul(x, beta);
  Tensor smooth = div(log1p(exp(clamp_max(scaled, threshold))), beta);
  return where(gt(scaled, threshold), x, smooth);
}

namespace {

std::string format_setting(const char* name, double value) {
  std::ostringstream os;
  os << name << "=" << value;
  return os.str();
}

}  // namespace

std::string LeakyReLU::extra_repr() const {
  return format_setting("negative_slope", negative_slope_);
}
std::string ELU::extra_repr() const { return format_setting("alpha", alpha_); }
std::string GELU::extra_repr() const {
  return approximation_ == GeluApproximation::tanh ? "approximate=tanh" : "";
}
std::string Softplus::extra_repr() const {
  return format_setting("beta", beta_) + ", " + format_setting("threshold", threshold_);
}
std::string Softmax::extra_repr() const { return format_setting("dim", double(dim_)); }
std::string LogSoftmax::extra_repr() const { return format_setting("dim", double(dim_)); }

std::shared_ptr<Module> make_activation(const std::string& name) {
  static const std::map<std::string, std::function<std::shared_ptr<Module>()>> factories = {
      {"relu", [] { return std::make_shared<ReLU>(); }},
      {"leaky_relu", [] { return std::make_shared<LeakyReLU>(); }},
      {"elu", [] { return std::make_shared<ELU>(); }},
      {"gelu", [] { return std::make_shared<GELU>(); }},
      {"gelu_tanh", [] { return std::make_shared<GELU>(GeluApproximation::tanh); }},
      {"silu", [] { return std::make_shared<SiLU>(); }},
      {"swish", [] { return std::make_shared<SiLU>(); }},
      {"mish", [] { return std::make_shared<Mish>(); }},
      {"tanh", [] { return std::make_shared<Tanh>(); }},
      {"sigmoid", [] { return std::make_shared<Sigmoid>(); }},
      {"softplus", [] { return std::make_shared<Softplus>(); }},
  };
  auto it = factories.find(name);
  if (it == factories.end()) {
    std::string known;
    for (const auto& [key, factory] : factories) known += (known.empty() ? "" : ", ") + key;
    NABLA_CHECK(false, ValueError, "make_activation: unknown activation '", name,
                "'; known: ", known);
  }
  return it->second();
}

}  // namespace nabla::nn
