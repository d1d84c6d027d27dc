// Hutchinson's estimator of a Hessian's diagonal (Bekas, Kokiopoulou & Saad, 2007): for z with
// independent Rademacher (+-1) entries, E[z * Hz] = diag(H), because E[z_i z_j] is 1 when i = j
// and 0 otherwise. AdaHessian and Hessian-free's preconditioner draw their z here.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "optim/param_vector.h"

namespace nabla::optim {

// A Rademacher tensor shaped like `like` (same dtype and device): draw number `draw` of the
// stream named by `seed` and `stream` (a parameter's name). Different streams are independent,
// and the same arguments give the same numbers on every device and thread, so an optimizer that
// counts its draws in its state replays them exactly after a resume, whatever else drew numbers
// from nabla's default generator meanwhile.
Tensor rademacher(const Tensor& like, uint64_t seed, std::string_view stream, uint64_t draw);

// z * Bz: one unbiased estimate of diag(B), for z of Rademacher draws and `product` v -> B v.
ParamVector hutchinson_diagonal(const std::function<ParamVector(const ParamVector&)>& product,
                                const ParamVector& z);

// A 4-D convolution kernel's diagonal estimate [O, I, KH, KW] averaged over each KH x KW window
// and broadcast back to its shape (Yao et al., 2021: the curvature of neighbouring taps of one
// filter is alike, and averaging cuts the estimator's variance); other shapes come back as they
// are.
Tensor spatial_average(const Tensor& diagonal);

}  // namespace nabla::optim
