// The step shared by the layer-curvature optimizers (hooks, KL clipping, momentum, weight decay),
// and K-FAC: Kronecker factors A = E[a a^T] and G = E[g g^T] per layer, whose damped inverse
// preconditions the layer's gradient as G^-1 grad A^-1.
#include "optim/kfac.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "autograd/ops/inplace.h"
#include "core/ops.h"
#include "optim/rule.h"

namespace nabla::optim {

// ---- The shared step ----

void LayerCurvatureOptimizer::attach(nn::Module& model) {
  std::vector<TrackedLayer> layers = track_layers(model, param_groups());
  try {
    for (const ParamGroup& group : param_groups()) {
      std::set<std::string> names;
      for (const auto& [name, p] : group.params) names.insert(name);
      std::vector<const TrackedLayer*> in_group;
      for (const TrackedLayer& layer : layers)
        if (names.contains(layer.weight_name)) in_group.push_back(&layer);
      check_layers(in_group, group.options);
    }
  } catch (...) {
    untrack_layers(layers);
    throw;
  }
  // The earlier layers' records go with them, so their hooks record nothing more.
  layers_ = std::move(layers);
}

void LayerCurvatureOptimizer::detach() { untrack_layers(layers_); }

std::vector<std::string> LayerCurvatureOptimizer::tracked_weights() const {
  std::vector<std::string> names;
  for (const TrackedLayer& layer : layers_) names.push_back(layer.weight_name);
  return names;
}

void LayerCurvatureOptimizer::check_layers(const std::vector<const TrackedLayer*>&,
                                           const OptionMap&) const {}

void LayerCurvatureOptimizer::update_group(ParamGroup& group) {
  const double lr = group.options.at("lr").real();
  const double momentum = group.options.at("momentum").real();
  const double weight_decay = group.options.at("weight_decay").real();
  const double kl_clip = group.options.at("kl_clip").real();

  std::set<std::string> names;
  NamedTensors stepping;  // the parameters with gradients
  for (const auto& [name, p] : group.params) {
    names.insert(name);
    if (!p.grad().defined()) continue;
    ++state_of(name).step;
    stepping.emplace_back(name, p);
  }

  std::vector<LayerStep> layers;
  for (TrackedLayer& layer : layers_) {
    if (!names.contains(layer.weight_name)) continue;
    if (!layer.weight.grad().defined()) {
      layer.records->clear();
      continue;
    }
    layers.push_back(
        {layer, state_of(layer.weight_name), layer.gradient(), layer.take_batches(), Tensor()});
  }
  if (!layers.empty()) precondition(layers, group.options);

  // KL clipping (Ba et al., 2017): the step's predicted change in the model's output
  // distribution, lr^2 sum over layers of <update, grad>, is kept below kl_clip.
  double scale = 1;
  if (kl_clip > 0) {
    double kl = 0;
    for (const LayerStep& s : layers)
      if (s.update.defined())
        kl += lr * lr *
              core::reduce(ReduceOp::sum, core::binary(BinaryOp::mul, s.update, s.grad), {}, false)
                  .item();
    if (kl > 0) scale = std::min(1.0, std::sqrt(kl_clip / kl));
  }

  std::map<std::string, Tensor, std::less<>> directions;
  for (const LayerStep& s : layers) {
    if (!s.update.defined()) continue;
    auto [weight, bias] = s.layer.split(core::binary(BinaryOp::mul, s.update, scale));
    directions.emplace(s.layer.weight_name, weight);
    if (bias.defined()) directions.emplace(s.layer.bias_name, bias);
  }

  for (const auto& [name, p] : stepping) {
    auto it = directions.find(name);
    Tensor d = it != directions.end() ? it->second : p.grad();
    if (weight_decay != 0) d = d + weight_decay * p;
    if (momentum != 0) {
      State& state = state_of(name);
      Tensor buf = state.find("momentum_buffer");
      if (buf.defined()) {
        mul_(buf, momentum);
        add_(buf, d);
      } else {
        buf = core::clone(d);
        state.set("momentum_buffer", buf);
      }
      d = buf;
    }
    add_(p, d, -lr);
  }
}

// ---- K-FAC ----

namespace {

// The eigenvalues (clamped at 0: rounding may leave tiny negative ones) and eigenvectors of a
// symmetric matrix, through LAPACK on the CPU.
std::pair<Tensor, Tensor> symmetric_eigen(const Tensor& m) {
  auto [values, vectors] = core::eigh(core::to(m, Device::cpu()));
  values = core::binary(BinaryOp::maximum, values, 0.0);
  return {core::to(values, m.device()), core::to(vectors, m.device())};
}

class Kfac final : public LayerCurvatureOptimizer {
 public:
  struct Options {
    double lr = 0.01;
    double momentum = 0.9;
    double weight_decay = 0;
    double damping = 1e-3;
    std::string damping_mode = "factored";
    double decay = 0.95;
    int64_t update_interval = 10;
    double kl_clip = 1e-3;

    static auto fields() {
      return std::tuple{
          Field{"lr", &Options::lr, "learning rate"},
          Field{"momentum", &Options::momentum, "momentum of the preconditioned step"},
          Field{"weight_decay", &Options::weight_decay,
                "L2 penalty, added to the preconditioned gradient"},
          Field{"damping", &Options::damping, "Tikhonov damping of the curvature"},
          Field{"damping_mode", &Options::damping_mode,
                "'factored': (A + pi sqrt(damping) I)^-1 and (G + sqrt(damping) / pi I)^-1 with "
                "Martens & Grosse's pi; 'exact': (A kron G + damping I)^-1 through the "
                "factors' eigenvectors"},
          Field{"decay", &Options::decay, "decay of the factors' running averages"},
          Field{"update_interval", &Options::update_interval,
                "steps between recomputations of the factors' eigendecompositions"},
          Field{"kl_clip", &Options::kl_clip,
                "bound on lr^2 <update, grad> summed over layers; 0 turns it off"}};
    }
    void validate() const {
      check_at_least("kfac", "lr", lr, 0);
      check_unit_interval("kfac", "momentum", momentum);
      check_at_least("kfac", "weight_decay", weight_decay, 0);
      check_positive("kfac", "damping", damping);
      check_one_of("kfac", "damping_mode", damping_mode, {"factored", "exact"});
      check_unit_interval("kfac", "decay", decay);
      check_at_least("kfac", "update_interval", static_cast<double>(update_interval), 1);
      check_at_least("kfac", "kl_clip", kl_clip, 0);
    }
  };

  Kfac(std::string name, std::vector<OptionSpec> specs, NamedTensors params,
       const OptionMap& options)
      : LayerCurvatureOptimizer(std::move(name), std::move(specs), std::move(params), options) {
    validate(param_groups()[0].options);
  }

 protected:
  void validate(const OptionMap& options) const override {
    read_options<Options>(options).validate();
  }

  void precondition(std::vector<LayerStep>& layers, const OptionMap& options) override {
    const Options o = read_options<Options>(options);
    for (LayerStep& s : layers) {
      if (!s.batches.empty()) update_factors(s, o);
      Tensor a = s.state.find("factor_a");
      if (!a.defined()) continue;  // no statistics yet: a plain gradient step
      if (!s.state.find("eigvec_a").defined() || (s.state.step - 1) % o.update_interval == 0) {
        auto [a_values, a_vectors] = symmetric_eigen(a);
        auto [g_values, g_vectors] = symmetric_eigen(s.state.find("factor_g"));
        s.state.set("eigval_a", a_values);
        s.state.set("eigvec_a", a_vectors);
        s.state.set("eigval_g", g_values);
        s.state.set("eigvec_g", g_vectors);
      }
      s.update = preconditioned(s, o);
    }
  }

 private:
  // This step's factors, averaged over the passes the hooks saw, then folded into the running
  // averages (which start at the first step's factors):
  //   A = 1/(N T) sum_{n,t} a a^T    [columns, columns]  (averaged over positions: KFC's Omega)
  //   G = 1/N sum_{n,t} g g^T        [out, out]
  // With a conv's positions taken as independent, A kron G approximates the empirical Fisher of
  // the layer's weights, 1/N sum_n vec(dl_n/dW) vec(dl_n/dW)^T.
  static void update_factors(LayerStep& s, const Options& o) {
    Tensor a_batch, g_batch;
    for (const LayerBatch& b : s.batches) {
      const int64_t examples = b.a.size(0), rows = b.a.size(0) * b.a.size(1);
      Tensor a = core::reshape(b.a, {rows, -1});  // [N T, columns]
      Tensor g = core::reshape(b.g, {rows, -1});  // [N T, out]
      Tensor a_term = core::binary(BinaryOp::div, core::matmul(core::transpose(a, 0, 1), a),
                                   static_cast<double>(rows));
      Tensor g_term = core::binary(BinaryOp::div, core::matmul(core::transpose(g, 0, 1), g),
                                   static_cast<double>(examples));
      a_batch = a_batch.defined() ? core::binary(BinaryOp::add, a_batch, a_term) : a_term;
      g_batch = g_batch.defined() ? core::binary(BinaryOp::add, g_batch, g_term) : g_term;
    }
    const auto passes = static_cast<double>(s.batches.size());
    a_batch = core::binary(BinaryOp::div, a_batch, passes);
    g_batch = core::binary(BinaryOp::div, g_batch, passes);
    for (auto [slot, batch] : {std::pair{"factor_a", a_batch}, std::pair{"factor_g", g_batch}}) {
      Tensor factor = s.state.find(slot);
      if (!factor.defined()) {
        s.state.set(slot, batch);
        continue;
      }
      mul_(factor, o.decay);
      add_(factor, batch, 1 - o.decay);
    }
  }

  // With A = Qa diag(da) Qa^T and G = Qg diag(dg) Qg^T, the damped inverse of A kron G applied
  // to the gradient is Qg [(Qg^T grad Qa) / D] Qa^T, elementwise by
  //   exact:    D[i, j] = dg[i] da[j] + damping
  //   factored: D[i, j] = (dg[i] + sqrt(damping) / pi) (da[j] + pi sqrt(damping)),
  //             pi^2 = (tr A / dim A) / (tr G / dim G), which splits the damping between the
  //             factors in proportion to their scales (Martens & Grosse, 2015, section 6.3).
  static Tensor preconditioned(const LayerStep& s, const Options& o) {
    Tensor da = s.state.find("eigval_a"), qa = s.state.find("eigvec_a");
    Tensor dg = s.state.find("eigval_g"), qg = s.state.find("eigvec_g");
    Tensor rotated = core::matmul(core::matmul(core::transpose(qg, 0, 1), s.grad), qa);
    Tensor dg_column = core::reshape(dg, {-1, 1}), da_row = core::reshape(da, {1, -1});
    Tensor denominator;
    if (o.damping_mode == "exact") {
      denominator =
          core::binary(BinaryOp::add, core::binary(BinaryOp::mul, dg_column, da_row), o.damping);
    } else {
      double mean_a = core::reduce(ReduceOp::sum, da, {}, false).item() / da.numel();
      double mean_g = core::reduce(ReduceOp::sum, dg, {}, false).item() / dg.numel();
      double pi = mean_a > 0 && mean_g > 0 ? std::sqrt(mean_a / mean_g) : 1.0;
      double gamma = std::sqrt(o.damping);
      denominator = core::binary(BinaryOp::mul, core::binary(BinaryOp::add, dg_column, gamma / pi),
                                 core::binary(BinaryOp::add, da_row, pi * gamma));
    }
    Tensor scaled = core::binary(BinaryOp::div, rotated, denominator);
    return core::matmul(core::matmul(qg, scaled), core::transpose(qa, 0, 1));
  }
};

}  // namespace

void register_kfac(OptimizerRegistry& registry) {
  register_layer_curvature<Kfac>(
      registry, "kfac",
      "K-FAC for Linear and Conv2d layers (attach the model); SGD with momentum elsewhere",
      Family::gradient);
}

}  // namespace nabla::optim
