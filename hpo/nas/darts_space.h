// The cell-based search space of DARTS (Liu et al., 2019, "DARTS: Differentiable Architecture
// Search"): a network of normal and reduction cells, each a DAG whose `steps` intermediate nodes
// sum a mixed operation on every earlier state. A mixed op is the softmax(alpha)-weighted sum of
// the candidate ops, so the architecture weights alpha train by gradient descent; discretizing
// keeps each node's two strongest inputs with their strongest op (the genotype).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nn/containers.h"
#include "nn/module.h"

namespace nabla::hpo::nas {

enum class CellOp {
  none,
  skip_connect,
  max_pool_3x3,
  avg_pool_3x3,
  sep_conv_3x3,
  sep_conv_5x5,
  dil_conv_3x3,
  dil_conv_5x5
};
const char* name(CellOp op);
std::vector<CellOp> all_cell_ops();  // in the order of alpha's columns

// [N, C, H, W] -> [N, C, H / stride, W / stride]. none gives zeros; skip_connect at stride 2 is
// ReLU, a strided 1x1 conv and BN; the convs are DARTS's ReLU-conv-BN stacks (a separable conv
// is two of them), BN without affine parameters as in DARTS's search.
std::shared_ptr<nn::Module> make_cell_op(CellOp op, int64_t channels, int64_t stride);

// Every candidate on one edge; forward takes the edge's softmax weights.
class MixedOp : public nn::Module {
 public:
  MixedOp(int64_t channels, int64_t stride);
  // weights: [number of ops], summing to 1.
  Tensor forward_weighted(const Tensor& x, const Tensor& weights);

 private:
  std::vector<std::shared_ptr<nn::Module>> ops_;  // null for none, which adds nothing
};

struct DartsOptions {
  int64_t channels = 16;  // the first cells' channels per node
  int64_t layers = 8;     // cells; those at layers / 3 and 2 * layers / 3 reduce
  int64_t steps = 4;      // intermediate nodes per cell
  int64_t num_classes = 10;
  int64_t in_channels = 3;
};

// The number of edges of a cell: node i has 2 + i inputs.
int64_t edges_per_cell(int64_t steps);

// A discrete cell: for node i, its two inputs (op, the state it reads: 0 and 1 the cell's
// inputs, 2 + j node j).
struct Genotype {
  std::vector<std::pair<CellOp, int64_t>> normal, reduce;  // 2 per node
  std::string to_string() const;
};

class DartsNetwork : public nn::Module {
 public:
  explicit DartsNetwork(const DartsOptions& options = {});
  Tensor forward(const Tensor& x) override;

  // alpha_normal and alpha_reduce: [edges_per_cell(steps), ops], registered as parameters (so
  // state dicts keep them); architecture_parameters and weight_parameters split them for the
  // bilevel optimization.
  std::vector<Tensor> architecture_parameters() const { return {alpha_normal_, alpha_reduce_}; }
  std::vector<Tensor> weight_parameters() const;
  // Each node's two inputs of largest weight (their best op other than none), and that op.
  Genotype genotype() const;

 private:
  class Cell;
  DartsOptions options_;
  std::shared_ptr<nn::Sequential> stem_;
  std::vector<std::shared_ptr<Cell>> cells_;
  std::shared_ptr<nn::Module> classifier_;
  Tensor alpha_normal_, alpha_reduce_;
};

}  // namespace nabla::hpo::nas
