// The CPU backend: every Backend primitive, on OpenBLAS and OpenMP. Its methods are defined one
// kernel family per file in core/cpu/.
#pragma once

#include "core/backend.h"
#include "core/cpu/caching_allocator.h"

namespace nabla {

class CpuBackend final : public Backend {
 public:
  Allocator& allocator() override { return allocator_; }

  void copy(const Tensor& src, const Tensor& dst) override;
  void fill(const Tensor& dst, double value) override;
  void random(const Tensor& dst, RandomKind kind, double a, double b, uint64_t seed,
              uint64_t offset) override;

  void unary(UnaryOp op, const Tensor& x, const Tensor& out, double alpha, double beta) override;
  void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) override;
  void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) override;

  void reduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims,
              const Tensor& out) override;
  void arg_reduce(ArgReduceOp op, const Tensor& x, int64_t dim, const Tensor& out) override;
  void softmax(const Tensor& x, int64_t dim, bool log, const Tensor& out) override;

  void matmul(const Tensor& a, const Tensor& b, const Tensor& out) override;

  void conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, const Conv2dParams& p,
              const Tensor& out) override;
  void conv2d_backward_data(const Tensor& grad_out, const Tensor& weight, const Conv2dParams& p,
                            const Tensor& grad_input) override;
  void conv2d_backward_weight(const Tensor& input, const Tensor& grad_out, const Conv2dParams& p,
                              const Tensor& grad_weight) override;

  void max_pool2d(const Tensor& x, const Pool2dParams& p, const Tensor& out,
                  const Tensor& indices) override;
  void max_pool2d_backward(const Tensor& grad_out, const Tensor& indices,
                           const Tensor& grad_input) override;
  void avg_pool2d(const Tensor& x, const Pool2dParams& p, const Tensor& out) override;
  void avg_pool2d_backward(const Tensor& grad_out, const Pool2dParams& p,
                           const Tensor& grad_input) override;

  void batch_norm_stats(const Tensor& x, const Tensor& mean, const Tensor& var) override;
  void batch_norm_backward_reduce(const Tensor& grad_out, const Tensor& x, const Tensor& mean,
                                  const Tensor& sum_g, const Tensor& sum_gx) override;
  void batch_norm_apply(const Tensor& x, const Tensor& x_scale, const Tensor& shift,
                        const Tensor& g, const Tensor& g_scale, const BatchNormEpilogue& epilogue,
                        const Tensor& out) override;

  void gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) override;
  void scatter_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) override;
  void index_select(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) override;
  void index_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) override;

 private:
  CachingHostAllocator allocator_;
};

}  // namespace nabla
