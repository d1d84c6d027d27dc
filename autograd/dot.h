// The backward graph as Graphviz DOT, for seeing what backward() will run.
#pragma once

#include <string>

#include "core/tensor.h"

namespace nabla::autograd {

// One box per recorded op (its name and output shape), one ellipse per leaf that requires grad,
// arrows in the direction data flowed. Render with: dot -Tpng graph.dot -o graph.png
std::string to_dot(const Tensor& t);

}  // namespace nabla::autograd
