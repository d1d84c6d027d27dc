// The empirical-Fisher natural gradient for small models: the full Fisher over every tracked
// layer of a group, F = 1/N sum_n vec(grad l_n) vec(grad l_n)^T from per-example gradients that
// the layer hooks give, damped and solved: (F + damping I)^-1 grad.
#include <cmath>

#include "core/ops.h"
#include "optim/kfac.h"
#include "optim/rule.h"

namespace nabla::optim {
namespace {

class NaturalGradient final : public LayerCurvatureOptimizer {
 public:
  struct Options {
    double lr = 0.01;
    double momentum = 0.9;
    double weight_decay = 0;
    double damping = 1e-3;
    double kl_clip = 1e-3;
    int64_t max_params = 2048;

    static auto fields() {
      return std::tuple{
          Field{"lr", &Options::lr, "learning rate"},
          Field{"momentum", &Options::momentum, "momentum of the preconditioned step"},
          Field{"weight_decay", &Options::weight_decay,
                "L2 penalty, added to the preconditioned gradient"},
          Field{"damping", &Options::damping, "added to the Fisher's diagonal"},
          Field{"kl_clip", &Options::kl_clip,
                "bound on lr^2 <update, grad> summed over layers; 0 turns it off"},
          Field{"max_params", &Options::max_params,
                "the most parameters a group's tracked layers may have: the Fisher is a dense "
                "square of that size"}};
    }
    void validate() const {
      check_at_least("natural_gradient", "lr", lr, 0);
      check_unit_interval("natural_gradient", "momentum", momentum);
      check_at_least("natural_gradient", "weight_decay", weight_decay, 0);
      check_positive("natural_gradient", "damping", damping);
      check_at_least("natural_gradient", "kl_clip", kl_clip, 0);
      check_at_least("natural_gradient", "max_params", static_cast<double>(max_params), 1);
    }
  };

  NaturalGradient(std::string name, std::vector<OptionSpec> specs, NamedTensors params,
                  const OptionMap& options)
      : LayerCurvatureOptimizer(std::move(name), std::move(specs), std::move(params), options) {
    validate(param_groups()[0].options);
  }

 protected:
  void validate(const OptionMap& options) const override {
    read_options<Options>(options).validate();
  }

  void check_layers(const std::vector<const TrackedLayer*>& layers,
                    const OptionMap& options) const override {
    int64_t total = 0;
    for (const TrackedLayer* layer : layers) total += layer->rows() * layer->columns();
    check_size(total, read_options<Options>(options).max_params);
  }

  void precondition(std::vector<LayerStep>& layers, const OptionMap& options) override {
    const Options o = read_options<Options>(options);
    // Per-example gradients, U [N, P]: for each layer the rows of sum_t g_nt a_nt^T [out, columns],
    // flattened like its gradient.
    std::vector<LayerStep*> ready;
    std::vector<Tensor> columns, grads;
    int64_t examples = -1;
    for (LayerStep& s : layers) {
      if (s.batches.empty()) continue;
      std::vector<Tensor> per_batch;
      for (const LayerBatch& b : s.batches) {
        Tensor per_example = core::matmul(core::transpose(b.g, 1, 2), b.a);  // [N, out, columns]
        per_batch.push_back(core::reshape(per_example, {per_example.size(0), -1}));
      }
      Tensor u = core::cat(per_batch, 0);
      NABLA_CHECK(examples < 0 || u.size(0) == examples, ValueError, "natural_gradient: layer '",
                  s.layer.weight_name, "' saw ", u.size(0),
                  " examples since the last step, the group's other layers ", examples,
                  "; every tracked layer must see the same examples");
      examples = u.size(0);
      ready.push_back(&s);
      columns.push_back(u);
      grads.push_back(core::reshape(s.grad, {-1}));
    }
    if (ready.empty()) return;
    Tensor u = core::cat(columns, 1);  // [N, P]
    check_size(u.size(1), o.max_params);

    // F = U^T U / N = Q diag(w) Q^T, so (F + damping I)^-1 g = Q ((Q^T g) / (w + damping)).
    Tensor fisher = core::binary(BinaryOp::div, core::matmul(core::transpose(u, 0, 1), u),
                                 static_cast<double>(examples));
    auto [values, vectors] = core::eigh(core::to(fisher, Device::cpu()));
    values = core::to(core::binary(BinaryOp::maximum, values, 0.0), fisher.device());
    vectors = core::to(vectors, fisher.device());
    Tensor g = core::reshape(core::cat(grads, 0), {-1, 1});  // [P, 1]
    Tensor rotated = core::matmul(core::transpose(vectors, 0, 1), g);
    rotated = core::binary(BinaryOp::div, rotated,
                           core::reshape(core::binary(BinaryOp::add, values, o.damping), {-1, 1}));
    Tensor solution = core::reshape(core::matmul(vectors, rotated), {-1});

    int64_t offset = 0;
    for (LayerStep* s : ready) {
      const int64_t size = s->grad.numel();
      s->update = core::reshape(core::contiguous(core::slice(solution, 0, offset, offset + size)),
                                s->grad.shape());
      offset += size;
    }
  }

 private:
  static void check_size(int64_t params, int64_t max_params) {
    NABLA_CHECK(params <= max_params, ValueError,
                "natural_gradient: the tracked layers of a group ", "have ", params,
                " parameters, above max_params = ", max_params, " (the dense Fisher would be ",
                params, " x ", params, "); raise max_params, or use kfac for a model this size");
  }
};

}  // namespace

void register_natural_gradient(OptimizerRegistry& registry) {
  register_layer_curvature<NaturalGradient>(
      registry, "natural_gradient",
      "Natural gradient with the full empirical Fisher of small Linear/Conv2d models (attach the "
      "model); SGD with momentum elsewhere",
      Family::gradient);
}

}  // namespace nabla::optim
