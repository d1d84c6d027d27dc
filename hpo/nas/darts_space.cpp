// DARTS's candidate ops, mixed op, cells, supernet and discretization.
#include "hpo/nas/darts_space.h"

#include <algorithm>
#include <sstream>

#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/views.h"
#include "core/creation.h"
#include "core/error.h"
#include "nn/activation.h"
#include "nn/containers.h"
#include "nn/conv.h"
#include "nn/linear.h"
#include "nn/normalization.h"
#include "nn/pooling.h"

namespace nabla::hpo::nas {

const char* name(CellOp op) {
  switch (op) {
    case CellOp::none:
      return "none";
    case CellOp::skip_connect:
      return "skip_connect";
    case CellOp::max_pool_3x3:
      return "max_pool_3x3";
    case CellOp::avg_pool_3x3:
      return "avg_pool_3x3";
    case CellOp::sep_conv_3x3:
      return "sep_conv_3x3";
    case CellOp::sep_conv_5x5:
      return "sep_conv_5x5";
    case CellOp::dil_conv_3x3:
      return "dil_conv_3x3";
    case CellOp::dil_conv_5x5:
      return "dil_conv_5x5";
  }
  return "?";
}

std::vector<CellOp> all_cell_ops() {
  return {CellOp::none,         CellOp::skip_connect, CellOp::max_pool_3x3, CellOp::avg_pool_3x3,
          CellOp::sep_conv_3x3, CellOp::sep_conv_5x5, CellOp::dil_conv_3x3, CellOp::dil_conv_5x5};
}

int64_t edges_per_cell(int64_t steps) { return steps * (steps + 3) / 2; }

namespace {

constexpr nn::BatchNormOptions kSearchBn{.affine = false};

// ReLU, a (depthwise when `depthwise`) k x k conv, a pointwise 1x1 conv when depthwise, BN.
std::vector<std::shared_ptr<nn::Module>> relu_conv_bn(int64_t in, int64_t out, int64_t kernel,
                                                      int64_t stride, int64_t dilation,
                                                      bool depthwise) {
  std::vector<std::shared_ptr<nn::Module>> m = {std::make_shared<nn::ReLU>()};
  const nn::Conv2dOptions conv{.stride = stride,
                               .padding = dilation * (kernel - 1) / 2,
                               .dilation = dilation,
                               .groups = depthwise ? in : 1,
                               .bias = false};
  m.push_back(std::make_shared<nn::Conv2d>(in, depthwise ? in : out, kernel, conv));
  if (depthwise)
    m.push_back(std::make_shared<nn::Conv2d>(in, out, 1, nn::Conv2dOptions{.bias = false}));
  m.push_back(std::make_shared<nn::BatchNorm2d>(out, kSearchBn));
  return m;
}

// none: zeros of the output's shape.
class Zero : public nn::Module {
 public:
  explicit Zero(int64_t stride) : Module("Zero"), stride_(stride) {}
  Tensor forward(const Tensor& x) override {
    return mul(slice(slice(x, 2, 0, x.size(2), stride_), 3, 0, x.size(3), stride_), 0.0);
  }

 private:
  int64_t stride_;
};

}  // namespace

std::shared_ptr<nn::Module> make_cell_op(CellOp op, int64_t c, int64_t stride) {
  using Modules = std::vector<std::shared_ptr<nn::Module>>;
  switch (op) {
    case CellOp::none:
      return std::make_shared<Zero>(stride);
    case CellOp::skip_connect:
      if (stride == 1) return std::make_shared<nn::Identity>();
      return nn::sequential(relu_conv_bn(c, c, 1, stride, 1, false));
    case CellOp::max_pool_3x3:
      return std::make_shared<nn::MaxPool2d>(3, nn::Pool2dOptions{.stride = stride, .padding = 1});
    case CellOp::avg_pool_3x3:
      return std::make_shared<nn::AvgPool2d>(
          3, nn::Pool2dOptions{.stride = stride, .padding = 1, .count_include_pad = false});
    case CellOp::sep_conv_3x3:
    case CellOp::sep_conv_5x5: {
      const int64_t k = op == CellOp::sep_conv_3x3 ? 3 : 5;
      Modules m = relu_conv_bn(c, c, k, stride, 1, true);
      Modules second = relu_conv_bn(c, c, k, 1, 1, true);
      m.insert(m.end(), second.begin(), second.end());
      return nn::sequential(m);
    }
    case CellOp::dil_conv_3x3:
    case CellOp::dil_conv_5x5:
      return nn::sequential(
          relu_conv_bn(c, c, op == CellOp::dil_conv_3x3 ? 3 : 5, stride, 2, true));
  }
  NABLA_ASSERT(false);
}

MixedOp::MixedOp(int64_t channels, int64_t stride) : Module("MixedOp") {
  for (CellOp op : all_cell_ops()) {
    if (op == CellOp::none) {
      ops_.push_back(nullptr);
      continue;
    }
    ops_.push_back(register_module(name(op), make_cell_op(op, channels, stride)));
  }
}

Tensor MixedOp::forward_weighted(const Tensor& x, const Tensor& weights) {
  Tensor sum;
  for (size_t i = 0; i < ops_.size(); ++i) {
    if (!ops_[i]) continue;
    Tensor term = mul((*ops_[i])(x), select(weights, 0, static_cast<int64_t>(i)));
    sum = sum.defined() ? add(sum, term) : term;
  }
  return sum;
}

// Two inputs (the two previous cells' outputs, brought to `channels` by 1x1 convs, the first
// also halved in size when the previous cell reduced), `steps` nodes, and the concatenation of
// the nodes as the output: [N, steps * channels, ...].
class DartsNetwork::Cell : public nn::Module {
 public:
  Cell(int64_t steps, int64_t c_prev_prev, int64_t c_prev, int64_t c, bool reduction,
       bool reduction_prev)
      : Module("Cell"), steps_(steps), reduction_(reduction) {
    pre0_ = register_module(
        "preprocess0",
        nn::sequential(relu_conv_bn(c_prev_prev, c, 1, reduction_prev ? 2 : 1, 1, false)));
    pre1_ = register_module("preprocess1", nn::sequential(relu_conv_bn(c_prev, c, 1, 1, 1, false)));
    for (int64_t i = 0; i < steps; ++i)
      for (int64_t j = 0; j < 2 + i; ++j)
        edges_.push_back(register_module("edge" + std::to_string(edges_.size()),
                                         std::make_shared<MixedOp>(c, reduction && j < 2 ? 2 : 1)));
  }

  bool reduction() const { return reduction_; }

  // weights: [edges, ops], each row a softmax.
  Tensor forward_cell(const Tensor& s0, const Tensor& s1, const Tensor& weights) {
    std::vector<Tensor> states = {(*pre0_)(s0), (*pre1_)(s1)};
    size_t edge = 0;
    for (int64_t i = 0; i < steps_; ++i) {
      Tensor node;
      for (size_t j = 0; j < states.size(); ++j, ++edge) {
        Tensor term = edges_[edge]->forward_weighted(states[j], select(weights, 0, int64_t(edge)));
        node = node.defined() ? add(node, term) : term;
      }
      states.push_back(node);
    }
    return cat(std::vector<Tensor>(states.end() - steps_, states.end()), 1);
  }

 private:
  int64_t steps_;
  bool reduction_;
  std::shared_ptr<nn::Sequential> pre0_, pre1_;
  std::vector<std::shared_ptr<MixedOp>> edges_;
};

DartsNetwork::DartsNetwork(const DartsOptions& options)
    : Module("DartsNetwork"), options_(options) {
  NABLA_CHECK(options.channels >= 1 && options.layers >= 1 && options.steps >= 1, ValueError,
              "nas::DartsNetwork: channels, layers and steps must be >= 1, got ", options.channels,
              ", ", options.layers, " and ", options.steps);
  const int64_t stem_channels = 3 * options.channels;
  stem_ = register_module(
      "stem",
      nn::sequential({std::make_shared<nn::Conv2d>(options.in_channels, stem_channels, 3,
                                                   nn::Conv2dOptions{.padding = 1, .bias = false}),
                      std::make_shared<nn::BatchNorm2d>(stem_channels)}));
  int64_t c_prev_prev = stem_channels, c_prev = stem_channels, c = options.channels;
  bool reduction_prev = false;
  for (int64_t l = 0; l < options.layers; ++l) {
    const bool reduction = l == options.layers / 3 || l == 2 * options.layers / 3;
    if (reduction) c *= 2;
    cells_.push_back(register_module(
        "cell" + std::to_string(l),
        std::make_shared<Cell>(options.steps, c_prev_prev, c_prev, c, reduction, reduction_prev)));
    reduction_prev = reduction;
    c_prev_prev = c_prev;
    c_prev = options.steps * c;
  }
  classifier_ =
      register_module("classifier", std::make_shared<nn::Linear>(c_prev, options.num_classes));
  // Small random alphas, as DARTS starts (1e-3 * N(0, 1)): every op nearly equally weighted.
  const Shape alpha_shape = {edges_per_cell(options.steps),
                             static_cast<int64_t>(all_cell_ops().size())};
  alpha_normal_ = register_parameter("alpha_normal", mul(randn(alpha_shape), 1e-3));
  alpha_reduce_ = register_parameter("alpha_reduce", mul(randn(alpha_shape), 1e-3));
}

std::vector<Tensor> DartsNetwork::weight_parameters() const {
  std::vector<Tensor> weights;
  for (const auto& [name, p] : named_parameters())
    if (name != "alpha_normal" && name != "alpha_reduce") weights.push_back(p);
  return weights;
}

Tensor DartsNetwork::forward(const Tensor& x) {
  Tensor s0 = (*stem_)(x), s1 = s0;
  const Tensor normal = softmax(alpha_normal_, 1), reduce = softmax(alpha_reduce_, 1);
  for (const auto& cell : cells_) {
    Tensor next = cell->forward_cell(s0, s1, cell->reduction() ? reduce : normal);
    s0 = s1;
    s1 = next;
  }
  return (*classifier_)(flatten(nn::adaptive_avg_pool2d(s1, 1, 1), 1));
}

namespace {

std::vector<std::pair<CellOp, int64_t>> discretize(const Tensor& alpha, int64_t steps) {
  NoGradGuard no_grad;
  const std::vector<double> w = softmax(alpha, 1).to_vector<double>();
  const auto ops = all_cell_ops();
  const size_t n_ops = ops.size();
  std::vector<std::pair<CellOp, int64_t>> gene;
  size_t start = 0;
  for (int64_t i = 0; i < steps; ++i) {
    const size_t inputs = static_cast<size_t>(2 + i);
    // Each input's best op other than none, and its weight.
    std::vector<std::pair<double, std::pair<CellOp, int64_t>>> best;
    for (size_t j = 0; j < inputs; ++j) {
      size_t top = 1;
      for (size_t k = 2; k < n_ops; ++k)
        if (w[(start + j) * n_ops + k] > w[(start + j) * n_ops + top]) top = k;
      best.push_back({w[(start + j) * n_ops + top], {ops[top], static_cast<int64_t>(j)}});
    }
    std::stable_sort(best.begin(), best.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    gene.push_back(best[0].second);
    gene.push_back(best[1].second);
    start += inputs;
  }
  return gene;
}

}  // namespace

Genotype DartsNetwork::genotype() const {
  return {discretize(alpha_normal_, options_.steps), discretize(alpha_reduce_, options_.steps)};
}

std::string Genotype::to_string() const {
  std::ostringstream os;
  auto cell = [&](const char* label, const std::vector<std::pair<CellOp, int64_t>>& gene) {
    os << label << ":";
    for (size_t k = 0; k < gene.size(); ++k)
      os << (k % 2 ? ", " : (k ? " | " : " ")) << name(gene[k].first) << "(" << gene[k].second
         << ")";
  };
  cell("normal", normal);
  os << "; ";
  cell("reduce", reduce);
  return os.str();
}

}  // namespace nabla::hpo::nas
