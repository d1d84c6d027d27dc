// Initializers: fill a tensor in place (under no-grad) from the default generator, as
// torch.nn.init does. Fans are computed PyTorch's way: for a weight [out, in, k...],
// fan_in = in * prod(k) and fan_out = out * prod(k).
#pragma once

#include <string>
#include <utility>

#include "core/tensor.h"

namespace nabla::nn::init {

enum class FanMode { fan_in, fan_out };

// {fan_in, fan_out} of a weight with at least 2 dims.
std::pair<int64_t, int64_t> fans(const Tensor& weight);
// The recommended gain for a nonlinearity: "linear", "conv2d", "sigmoid" (1), "tanh" (5/3),
// "relu" (sqrt 2), "leaky_relu" (sqrt(2 / (1 + slope^2))), "selu" (3/4).
double calculate_gain(const std::string& nonlinearity, double param = 0.01);

void uniform_(const Tensor& t, double a = 0, double b = 1);
void normal_(const Tensor& t, double mean = 0, double std = 1);
void constant_(const Tensor& t, double value);
void zeros_(const Tensor& t);
void ones_(const Tensor& t);
// U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)); N(0, gain^2 * 2 / (fan_in + fan_out)).
void xavier_uniform_(const Tensor& t, double gain = 1);
void xavier_normal_(const Tensor& t, double gain = 1);
// std = gain / sqrt(fan), gain from `nonlinearity` and `a` (the leaky_relu slope); the uniform
// form draws from U(-sqrt(3) std, sqrt(3) std).
void kaiming_uniform_(const Tensor& t, double a = 0, FanMode mode = FanMode::fan_in,
                      const std::string& nonlinearity = "leaky_relu");
void kaiming_normal_(const Tensor& t, double a = 0, FanMode mode = FanMode::fan_in,
                     const std::string& nonlinearity = "leaky_relu");
// A (semi-)orthogonal matrix over the weight flattened to [rows, cols]: rows orthonormal when
// rows <= cols, else columns; scaled by gain. Gram-Schmidt on a Gaussian draw, with the signs
// fixed so that the result is uniformly (Haar) distributed.
void orthogonal_(const Tensor& t, double gain = 1);
// N(mean, std^2) conditioned on [a, b], by inverting the normal CDF on a uniform draw.
void trunc_normal_(const Tensor& t, double mean = 0, double std = 1, double a = -2, double b = 2);

}  // namespace nabla::nn::init
