// Shampoo (Gupta, Koren & Singer, 2018): one preconditioner per tensor dimension, applied as
// inverse 2k-th roots for a rank-k tensor (L^(-1/4) G R^(-1/4) for a matrix), with the step's
// length grafted per tensor from Adam or SGD (Agarwal et al., 2020).
#include "autograd/ops/linalg.h"
#include "autograd/ops/views.h"
#include "optim/matrix_root.h"
#include "optim/rule.h"

namespace nabla::optim {
namespace {

struct Shampoo {
  struct Options {
    double lr = 1e-3;
    double momentum = 0.9;
    double beta2 = 1.0;
    double eps = 1e-6;
    int64_t update_interval = 10;
    int64_t max_preconditioner_dim = 1024;
    std::string root_method = "eigh";
    std::string graft = "adam";
    double graft_beta2 = 0.999;
    double graft_eps = 1e-8;
    std::string vector_preconditioner = "diagonal";
    bool merge_dims = true;
    double weight_decay = 0;
    bool decoupled_weight_decay = false;

    static auto fields() {
      return std::tuple{
          Field{"lr", &Options::lr, "learning rate"},
          Field{"momentum", &Options::momentum,
                "running average of the grafted update, bias-corrected like Adam's first moment"},
          Field{"beta2", &Options::beta2,
                "decay of the preconditioner statistics; 1 sums them as AdaGrad does"},
          Field{"eps", &Options::eps, "added to each preconditioner's diagonal before its root"},
          Field{"update_interval", &Options::update_interval,
                "steps between recomputations of the inverse roots"},
          Field{"max_preconditioner_dim", &Options::max_preconditioner_dim,
                "dimensions larger than this get a diagonal preconditioner"},
          Field{"root_method", &Options::root_method,
                "inverse roots by 'eigh' (LAPACK) or the coupled 'newton' iteration"},
          Field{"graft", &Options::graft,
                "whose per-tensor step length to take: 'adam', 'sgd' or 'none'"},
          Field{"graft_beta2", &Options::graft_beta2,
                "decay of the squared gradient's running mean, for the adam graft"},
          Field{"graft_eps", &Options::graft_eps, "added to the adam graft's denominator"},
          Field{"vector_preconditioner", &Options::vector_preconditioner,
                "vectors and scalars: 'diagonal' (AdaGrad) or 'full' (full-matrix AdaGrad)"},
          Field{"merge_dims", &Options::merge_dims,
                "precondition tensors of rank > 2 (conv kernels) as matrices [dim 0, the rest]"},
          Field{"weight_decay", &Options::weight_decay, "weight decay (L2 unless decoupled)"},
          Field{"decoupled_weight_decay", &Options::decoupled_weight_decay,
                "decay the weights directly, p -= lr * weight_decay * p"}};
    }
    void validate() const {
      check_at_least("shampoo", "lr", lr, 0);
      check_unit_interval("shampoo", "momentum", momentum);
      NABLA_CHECK(beta2 > 0 && beta2 <= 1, ValueError, "shampoo: beta2 must be in (0, 1], got ",
                  beta2);
      check_positive("shampoo", "eps", eps);
      check_at_least("shampoo", "update_interval", static_cast<double>(update_interval), 1);
      check_at_least("shampoo", "max_preconditioner_dim",
                     static_cast<double>(max_preconditioner_dim), 1);
      check_one_of("shampoo", "root_method", root_method, {"eigh", "newton"});
      check_one_of("shampoo", "graft", graft, {"adam", "sgd", "none"});
      check_unit_interval("shampoo", "graft_beta2", graft_beta2);
      check_at_least("shampoo", "graft_eps", graft_eps, 0);
      check_one_of("shampoo", "vector_preconditioner", vector_preconditioner, {"diagonal", "full"});
      check_at_least("shampoo", "weight_decay", weight_decay, 0);
    }
  };

  // The shape the preconditioners see: a scalar as [1]; with merge_dims, a tensor of rank > 2
  // as the matrix [d0, d1 * d2 * ...] (a conv kernel [O, C, kh, kw] as [O, C kh kw]).
  static Shape preconditioned_shape(const Tensor& param, const Options& o) {
    if (param.dim() == 0) return {1};
    if (param.dim() > 2 && o.merge_dims) return {param.size(0), param.numel() / param.size(0)};
    return param.shape();
  }

  // x with dimension `dim` first, flattened to [x.size(dim), the rest].
  static Tensor unfold_dim(const Tensor& x, int64_t dim) {
    std::vector<int64_t> order = {dim};
    for (int64_t d = 0; d < x.dim(); ++d)
      if (d != dim) order.push_back(d);
    return reshape(permute(x, order), {x.size(dim), -1});
  }

  // m [x.size(dim), the rest] back to x's shape: undoes unfold_dim.
  static Tensor fold_dim(const Tensor& m, const Tensor& like, int64_t dim) {
    Shape moved = {like.size(dim)};
    std::vector<int64_t> inverse(like.dim());
    for (int64_t d = 0; d < like.dim(); ++d)
      if (d != dim) moved.push_back(like.size(d));
    // moved's axis j holds like's axis order[j]; inverse[order[j]] = j.
    for (int64_t d = 0, j = 1; d < like.dim(); ++d) inverse[d] = d == dim ? 0 : j++;
    return permute(reshape(m, moved), inverse);
  }

  static bool full_matrix(int64_t size, int64_t rank, const Options& o) {
    return size <= o.max_preconditioner_dim && (rank > 1 || o.vector_preconditioner == "full");
  }

  // Accumulates dimension `dim`'s statistics of g: L = beta2 L + (1 - beta2) G G^T with G the
  // unfolding [d, rest] (1 - beta2 read as 1 when beta2 = 1), or only L's diagonal.
  static Tensor accumulate(const Tensor& g, int64_t dim, bool full, State& state,
                           const Options& o) {
    Tensor unfolded = unfold_dim(g, dim);                              // [d, rest]
    Tensor batch = full ? matmul(unfolded, transpose(unfolded, 0, 1))  // [d, d]
                        : sum(square(unfolded), {1});                  // [d]
    const std::string slot = "preconditioner" + std::to_string(dim);
    Tensor stat = state.find(slot);
    if (!stat.defined()) {
      stat = zeros_like(batch);
      state.set(slot, stat);
    }
    if (o.beta2 < 1) mul_(stat, o.beta2);
    add_(stat, batch, o.beta2 < 1 ? 1 - o.beta2 : 1.0);
    return stat;
  }

  // stat^(-1/p) after adding eps to its diagonal: a matrix, or a vector for a diagonal one.
  static Tensor root_of(const Tensor& stat, int64_t p, const Options& o) {
    if (stat.dim() == 1) return pow(clamp_min(stat, 0) + o.eps, -1.0 / static_cast<double>(p));
    RootMethod method = o.root_method == "eigh" ? RootMethod::eigh : RootMethod::newton;
    return inverse_root(stat, p, o.eps, method);
  }

  // x multiplied along dimension `dim` by root: a matrix product or a diagonal scaling.
  static Tensor apply_root(const Tensor& x, const Tensor& root, int64_t dim) {
    if (root.dim() == 1) {
      Shape along(x.dim(), 1);
      along[dim] = x.size(dim);
      return x * reshape(root, along);
    }
    return fold_dim(matmul(root, unfold_dim(x, dim)), x, dim);
  }

  // The Shampoo direction of g: g multiplied along every dimension by that dimension's
  // preconditioner to the power -1/(2 k), for g of rank k. The roots are recomputed every
  // update_interval steps and kept in between.
  static Tensor direction(const Tensor& g, State& state, const Options& o, int64_t step) {
    const int64_t rank = g.dim();
    const bool refresh = (step - 1) % o.update_interval == 0;
    Tensor d = g;
    for (int64_t dim = 0; dim < rank; ++dim) {
      Tensor stat = accumulate(g, dim, full_matrix(g.size(dim), rank, o), state, o);
      const std::string slot = "root" + std::to_string(dim);
      Tensor root = state.find(slot);
      if (refresh || !root.defined()) {
        root = root_of(stat, 2 * rank, o);
        state.set(slot, root);
      }
      d = apply_root(d, root, dim);
    }
    return d;
  }

  // The norm of the step the grafted method would take from g.
  static double graft_norm(const Tensor& g, State& state, const Options& o, int64_t step) {
    if (o.graft == "sgd") return norm(g).item();
    // Adam without its first moment (momentum comes after grafting): g / (sqrt(v_hat) + eps).
    Tensor v = state.zeros("graft_exp_avg_sq", g);
    mul_(v, o.graft_beta2);
    addcmul_(v, g, g, 1 - o.graft_beta2);
    double bias_correction = 1 - std::pow(o.graft_beta2, static_cast<double>(step));
    return norm(g / (sqrt(v / bias_correction) + o.graft_eps)).item();
  }

  static void update(const Tensor& param, const Tensor& grad, State& state, const Options& o,
                     int64_t step) {
    if (o.weight_decay != 0 && o.decoupled_weight_decay) mul_(param, 1 - o.lr * o.weight_decay);
    Tensor g = grad;
    if (o.weight_decay != 0 && !o.decoupled_weight_decay) g = grad + o.weight_decay * param;
    g = reshape(contiguous(g), preconditioned_shape(param, o));

    Tensor u = direction(g, state, o, step);
    if (o.graft != "none") {
      double target = graft_norm(g, state, o, step);
      double length = norm(u).item();
      u = u * (length > 0 ? target / length : 0.0);
    }
    // buf = momentum buf + (1 - momentum) u, and p -= lr buf / (1 - momentum^t).
    Tensor buf = state.zeros("momentum_buffer", u);
    mul_(buf, o.momentum);
    add_(buf, u, 1 - o.momentum);
    double bias_correction = 1 - std::pow(o.momentum, static_cast<double>(step));
    add_(param, reshape(buf, param.shape()), -o.lr / bias_correction);
  }
};

}  // namespace

void register_shampoo(OptimizerRegistry& registry) {
  register_rule<Shampoo>(registry, "shampoo",
                         "Shampoo: per-dimension preconditioners, step length grafted from Adam",
                         Family::adaptive);
}

}  // namespace nabla::optim
