// Differentiable reductions over any set of dims (an empty list means all), and softmax.
#pragma once

#include <optional>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace nabla {

using Dims = std::vector<int64_t>;

Tensor sum(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
// The largest and smallest values; ties share the gradient evenly.
Tensor amax(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor amin(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
// Values and int64 indices of the maxima along one dim; the gradient goes to the index.
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim = false);
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim = false);
// Over the flattened tensor when dim is empty. No gradient: the results are indices.
Tensor argmax(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
Tensor argmin(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
// Variance and standard deviation with Bessel's correction by default (correction = 1).
Tensor var(const Tensor& x, const Dims& dims = {}, int64_t correction = 1, bool keepdim = false);
Tensor stddev(const Tensor& x, const Dims& dims = {}, int64_t correction = 1, bool keepdim = false);
// The p-norm (p > 0, or INFINITY for the largest magnitude); its gradient at 0 is 0.
Tensor norm(const Tensor& x, double p = 2, const Dims& dims = {}, bool keepdim = false);
// log(sum(exp(x))), computed without overflow.
Tensor logsumexp(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
// Sums x down to `shape`, undoing a broadcast; the gradient of a broadcasting op's input.
Tensor sum_to(const Tensor& x, const Shape& shape);

}  // namespace nabla
