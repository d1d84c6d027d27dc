// The DARTS cell space: every candidate op keeps or halves the shape, the supernet trains a step
// with gradients for its weights and its architecture parameters, those gradients match central
// differences in float64, and discretization keeps each node's two strongest inputs.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "core/creation.h"
#include "core/generator.h"
#include "hpo/nas/darts_space.h"
#include "nn/loss.h"

using namespace nabla;
using namespace nabla::hpo::nas;

TEST_CASE("darts: each candidate op keeps the shape at stride 1 and halves it at stride 2") {
  manual_seed(3);
  Tensor x = randn({2, 6, 8, 8});
  for (CellOp op : all_cell_ops()) {
    const std::string label = name(op);
    CAPTURE(label);
    for (int64_t stride : {1, 2})
      CHECK((*make_cell_op(op, 6, stride))(x).shape() == Shape{2, 6, 8 / stride, 8 / stride});
  }
  CHECK(edges_per_cell(4) == 14);
}

TEST_CASE("darts: the supernet trains a step; its alpha gradients match central differences") {
  manual_seed(4);
  DartsNetwork net({.channels = 2, .layers = 3, .steps = 2, .num_classes = 3});
  net.to(kFloat64);
  Tensor x = randn({2, 3, 8, 8}, {.dtype = kFloat64});
  Tensor target = from_vector<int64_t>({0, 2});
  auto loss_of = [&] { return nn::cross_entropy(net(x), target); };
  Tensor loss = loss_of();
  backward(loss);
  for (const auto& [name, p] : net.named_parameters()) {
    CAPTURE(name);
    REQUIRE(p.grad().defined());
  }
  REQUIRE(net.architecture_parameters().size() == 2);
  CHECK(net.weight_parameters().size() + 2 == net.parameters().size());

  // Central differences on a few entries of each alpha; BN in training mode is a deterministic
  // function of the batch, so the loss is a smooth function of alpha.
  const double h = 1e-5;
  for (Tensor alpha : net.architecture_parameters()) {
    const std::vector<double> analytic = alpha.grad().to_vector<double>();
    for (int64_t index : {int64_t{0}, int64_t{5}, int64_t{13}, int64_t{22}, alpha.numel() - 1}) {
      auto loss_at = [&](double delta) {
        NoGradGuard no_grad;
        Tensor flat = reshape(alpha, {alpha.numel()});
        const double was = flat.to_vector<double>()[static_cast<size_t>(index)];
        Tensor entry = select(flat, 0, index);
        fill_(entry, was + delta);
        const double value = loss_of().item<double>();
        fill_(entry, was);
        return value;
      };
      const double numeric = (loss_at(h) - loss_at(-h)) / (2 * h);
      CAPTURE(index);
      CHECK(analytic[static_cast<size_t>(index)] ==
            doctest::Approx(numeric).epsilon(1e-6).scale(1e-6));
    }
  }
}

TEST_CASE("darts: the genotype keeps each node's two strongest inputs and their best op") {
  manual_seed(5);
  DartsNetwork net({.channels = 2, .layers = 3, .steps = 2, .num_classes = 3});
  {
    NoGradGuard no_grad;
    Tensor normal = net.architecture_parameters()[0];
    fill_(normal, 0.0);
    // Node 0 (edges 0 and 1): input 1 by sep_conv_3x3 strongly, input 0 by max_pool weakly.
    // none's weight is the largest on edge 0 but never chosen.
    fill_(select(select(normal, 0, 0), 0, 0), 9.0);  // none
    fill_(select(select(normal, 0, 0), 0, 2), 1.0);  // max_pool_3x3
    fill_(select(select(normal, 0, 1), 0, 4), 5.0);  // sep_conv_3x3
    // Node 1 (edges 2, 3, 4): inputs 2 and 0 by dil_conv_5x5 and skip_connect.
    fill_(select(select(normal, 0, 4), 0, 7), 4.0);
    fill_(select(select(normal, 0, 2), 0, 1), 3.0);
  }
  const Genotype g = net.genotype();
  REQUIRE(g.normal.size() == 4);
  CHECK(g.normal[0] == std::pair{CellOp::sep_conv_3x3, int64_t{1}});
  CHECK(g.normal[1] == std::pair{CellOp::max_pool_3x3, int64_t{0}});
  CHECK(g.normal[2] == std::pair{CellOp::dil_conv_5x5, int64_t{2}});
  CHECK(g.normal[3] == std::pair{CellOp::skip_connect, int64_t{0}});
  CHECK(g.to_string().starts_with("normal: sep_conv_3x3(1), max_pool_3x3(0) | dil_conv_5x5(2)"));
  CHECK(g.reduce.size() == 4);
}
