// Jacobians by backward and by central differences, compared entry by entry.
#include "autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/ops/views.h"
#include "core/ops.h"

namespace nabla::autograd {

namespace {
using Function = std::function<Tensor(const std::vector<Tensor>&)>;

// Jacobian of one input: entry [j * n_out + k] is d out[k] / d x[j].
using Jacobian = std::vector<double>;

std::vector<Jacobian> analytical(const Tensor& out, const std::vector<Tensor>& xs,
                                 const std::vector<size_t>& wrt) {
  const int64_t n_out = out.numel();
  std::vector<Jacobian> jacobians;
  std::vector<Tensor> targets;
  for (size_t i : wrt) {
    jacobians.emplace_back(xs[i].numel() * n_out, 0.0);
    targets.push_back(xs[i]);
  }
  if (!out.requires_grad()) return jacobians;  // out does not depend on them: all zeros
  for (int64_t k = 0; k < n_out; ++k) {
    Tensor seed = zeros(out.shape(), {.dtype = kFloat64});
    seed.data<double>()[k] = 1;
    std::vector<Tensor> grads =
        grad({out}, targets, {seed}, {.retain_graph = true, .allow_unused = true});
    for (size_t t = 0; t < grads.size(); ++t) {
      if (!grads[t].defined()) continue;
      std::vector<double> g = grads[t].to_vector<double>();
      for (size_t j = 0; j < g.size(); ++j) jacobians[t][j * n_out + k] = g[j];
    }
  }
  return jacobians;
}

std::vector<Jacobian> numerical(const Function& f, std::vector<Tensor>& xs,
                                const std::vector<size_t>& wrt, int64_t n_out, double eps) {
  NoGradGuard no_grad;
  std::vector<Jacobian> jacobians;
  for (size_t i : wrt) {
    Jacobian jac(xs[i].numel() * n_out);
    double* data = xs[i].data<double>();
    for (int64_t j = 0; j < xs[i].numel(); ++j) {
      const double original = data[j];
      data[j] = original + eps;
      std::vector<double> plus = f(xs).to_vector<double>();
      data[j] = original - eps;
      std::vector<double> minus = f(xs).to_vector<double>();
      data[j] = original;
      for (int64_t k = 0; k < n_out; ++k) jac[j * n_out + k] = (plus[k] - minus[k]) / (2 * eps);
    }
    jacobians.push_back(std::move(jac));
  }
  return jacobians;
}
}  // namespace

GradcheckResult gradcheck(const Function& f, const std::vector<Tensor>& inputs,
                          GradcheckOptions options) {
  std::vector<Tensor> xs;
  std::vector<size_t> wrt;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& x = inputs[i];
    if (!x.defined() || !x.requires_grad()) {
      xs.push_back(x);
      continue;
    }
    NABLA_CHECK(x.dtype() == kFloat64 && x.device().is_cpu(), DTypeError, "gradcheck: input ", i,
                " is a ", x.dtype(), " tensor on ", x.device(),
                "; finite differences need float64 on the CPU");
    // A private contiguous leaf, so that perturbations can index it directly.
    xs.push_back(core::clone(x).requires_grad_());
    wrt.push_back(i);
  }
  Tensor out = f(xs);
  NABLA_CHECK(out.defined() && out.dtype() == kFloat64, DTypeError,
              "gradcheck: f must return a float64 tensor");
  std::vector<Jacobian> exact = analytical(out, xs, wrt);
  std::vector<Jacobian> approx = numerical(f, xs, wrt, out.numel(), options.eps);

  for (size_t t = 0; t < wrt.size(); ++t) {
    for (size_t e = 0; e < exact[t].size(); ++e) {
      double a = exact[t][e], n = approx[t][e];
      if (std::abs(a - n) <= options.atol + options.rtol * std::abs(n)) continue;
      std::ostringstream msg;
      msg << "gradcheck: input " << wrt[t] << " element " << e / out.numel() << ", output element "
          << e % out.numel() << ": backward gives " << a << " but finite differences give " << n;
      return {false, msg.str()};
    }
  }
  return {};
}

GradcheckResult gradgradcheck(const Function& f, const std::vector<Tensor>& inputs,
                              GradcheckOptions options) {
  std::vector<size_t> wrt;
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].defined() && inputs[i].requires_grad()) wrt.push_back(i);
  Tensor out = f(inputs);
  std::vector<Tensor> args = inputs;
  args.push_back(randn(out.shape(), {.dtype = kFloat64, .requires_grad = true}));

  // The first-order gradients as one flat tensor, as a function of (inputs..., v).
  auto first_order = [&](const std::vector<Tensor>& a) {
    GradModeGuard grad_mode(true);  // gradcheck evaluates this under no-grad; grad() needs a graph
    std::vector<Tensor> xs(a.begin(), a.end() - 1), targets;
    for (size_t i : wrt) targets.push_back(xs[i]);
    Tensor y = f(xs);
    std::vector<Tensor> pieces;
    std::vector<Tensor> grads(targets.size());
    if (y.requires_grad())
      grads = grad({y}, targets, {a.back()}, {.create_graph = true, .allow_unused = true});
    for (size_t t = 0; t < grads.size(); ++t)
      pieces.push_back(grads[t].defined() ? reshape(grads[t], {-1})
                                          : zeros({targets[t].numel()}, {.dtype = kFloat64}));
    return cat(pieces);
  };
  return gradcheck(first_order, args, options);
}

}  // namespace nabla::autograd
