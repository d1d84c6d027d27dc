// Tensor hooks: code that sees (and may replace) a tensor's gradient during backward.
#pragma once

#include <functional>

#include "core/tensor.h"

namespace nabla {

// Runs `hook` on t's gradient whenever one is computed; a defined return value replaces it.
void register_hook(const Tensor& t, std::function<Tensor(const Tensor&)> hook);
// Keeps the gradient of a non-leaf in its grad() after backward (leaves always keep theirs).
void retain_grad(const Tensor& t);

}  // namespace nabla
