// BFGS (Broyden, Fletcher, Goldfarb, Shanno, 1970) with a dense inverse Hessian, through the same
// step as L-BFGS (optim/quasi_newton.h): a fixed step or a strong-Wolfe line search. For models
// small enough that an n x n matrix fits.
#include "core/ops.h"
#include "optim/closure_optimizer.h"
#include "optim/quasi_newton.h"

namespace nabla::optim {
namespace {

// H [n, n] in float64, kept as each participant's rows: slot "inverse_hessian" [n_i, n]. Before
// the first pair it is the identity; the first pair scales that to (s . y / y . y) I before the
// update (Nocedal & Wright, eq. 6.20).
class DenseInverseHessian final : public InverseHessian {
 public:
  explicit DenseInverseHessian(int64_t max_params) : max_params_(max_params) {}

  // Every iteration sequence starts here, also after the parameters taking part changed.
  void reset(const Participants& ps) const override {
    int64_t n = 0;
    for (const Participant& p : ps) n += p.param.numel();
    NABLA_CHECK(n <= max_params_, ValueError, "bfgs: the parameters have ", n,
                " elements, more than max_params = ", max_params_,
                ", the limit for a dense inverse Hessian (", n, " x ", n,
                "); raise max_params, or use lbfgs");
    erase_slot(ps, "inverse_hessian");
  }

  // H <- (I - rho s y^T) H (I - rho y s^T) + rho s s^T with rho = 1 / s . y, expanded with
  // Hy = H y (H is symmetric):
  //   H - rho (s Hy^T + Hy s^T) + (rho^2 y . Hy + rho) s s^T.
  void update(const Participants& ps, const ParamVector& s, const ParamVector& y,
              double sy) const override {
    Tensor s_flat = flatten(s), y_flat = flatten(y);  // [n]
    const int64_t n = s_flat.numel();
    Tensor h = matrix(ps, n);
    if (!h.defined()) h = core::binary(BinaryOp::mul, eye(n, {.dtype = kFloat64}), sy / dot(y, y));
    Tensor hy = core::matmul(h, y_flat);  // [n]
    double rho = 1 / sy;
    double y_hy =
        core::reduce(ReduceOp::sum, core::binary(BinaryOp::mul, y_flat, hy), {}, false).item();
    Tensor column_s = core::reshape(s_flat, {n, 1}), row_s = core::reshape(s_flat, {1, n});
    Tensor column_hy = core::reshape(hy, {n, 1}), row_hy = core::reshape(hy, {1, n});
    Tensor cross = core::binary(BinaryOp::add, core::matmul(column_s, row_hy),
                                core::matmul(column_hy, row_s));  // [n, n]
    Tensor ss = core::matmul(column_s, row_s);                    // [n, n]
    core::binary_(BinaryOp::sub, h, core::binary(BinaryOp::mul, cross, rho));
    core::binary_(BinaryOp::add, h, core::binary(BinaryOp::mul, ss, rho * rho * y_hy + rho));
    store(ps, h);
  }

  ParamVector direction(const Participants& ps, const ParamVector& g) const override {
    Tensor g_flat = flatten(g);
    Tensor h = matrix(ps, g_flat.numel());
    Tensor d = h.defined() ? core::matmul(h, g_flat) : g_flat;
    return unflatten(core::binary(BinaryOp::mul, d, -1.0), g);
  }

 private:
  // H on the CPU, or undefined while it is the identity (or when the rows kept no longer fit the
  // n elements taking part).
  static Tensor matrix(const Participants& ps, int64_t n) {
    std::vector<Tensor> rows;
    int64_t count = 0;
    for (const Participant& p : ps) {
      Tensor block = p.state->find("inverse_hessian");
      if (!block.defined() || block.dim() != 2 || block.size(0) != p.param.numel() ||
          block.size(1) != n)
        return Tensor();
      rows.push_back(core::to(block, Device::cpu()));
      count += block.size(0);
    }
    return count == n ? core::cat(rows, 0) : Tensor();
  }

  static void store(const Participants& ps, const Tensor& h) {
    int64_t start = 0;
    for (const Participant& p : ps) {
      int64_t rows = p.param.numel();
      p.state->set("inverse_hessian",
                   core::to(core::clone(core::slice(h, 0, start, start + rows)), p.param.device()));
      start += rows;
    }
  }

  int64_t max_params_;
};

struct Bfgs {
  struct Options : QuasiNewtonOptions {
    int64_t max_params = 10000;

    static auto fields() {
      return std::tuple{
          Field{"lr", &Options::lr, "step size: the fixed step, or the line search's first trial"},
          Field{"max_iter", &Options::max_iter, "iterations per step"},
          Field{"max_eval", &Options::max_eval,
                "closure evaluations per step (0: max_iter * 5 / 4)"},
          Field{"tolerance_grad", &Options::tolerance_grad,
                "stop when the largest gradient element is this small"},
          Field{"tolerance_change", &Options::tolerance_change,
                "stop when the loss or the weights change less than this"},
          Field{"line_search", &Options::line_search, "none or strong_wolfe"},
          Field{"sufficient_decrease", &Options::sufficient_decrease,
                "strong Wolfe's c1: loss(x + t p) <= loss(x) + c1 t g . p"},
          Field{"curvature", &Options::curvature,
                "strong Wolfe's c2: |g(x + t p) . p| <= c2 |g . p|"},
          Field{"max_params", &Options::max_params,
                "the most parameter elements, n, for the dense n x n inverse Hessian"}};
    }
    void validate() const {
      QuasiNewtonOptions::validate("bfgs");
      check_at_least("bfgs", "max_params", static_cast<double>(max_params), 1);
    }
  };

  static ClosureStep step(StepContext& context, const Options& options) {
    return quasi_newton_step(context, options, DenseInverseHessian(options.max_params));
  }
};

}  // namespace

void register_bfgs(OptimizerRegistry& registry) {
  register_method<Bfgs>(registry, "bfgs",
                        "BFGS with a dense inverse Hessian; needs step(closure); line_search "
                        "strong_wolfe for a line search",
                        Family::second_order);
}

}  // namespace nabla::optim
