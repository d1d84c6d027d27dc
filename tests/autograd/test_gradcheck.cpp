// Every differentiable op, from one table: float64 gradcheck on contiguous, transposed, strided
// and broadcast (expanded) inputs, and gradgradcheck, so every gradient rule is itself
// differentiable. Adding an op's test is adding one row.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <string>

#include "autograd/node.h"
#include "nabla.h"

using namespace nabla;
using Inputs = std::vector<Tensor>;

namespace {

enum class Domain { real, positive };

struct OpCase {
  std::string name;
  std::vector<Shape> shapes;
  std::function<Tensor(const Inputs&)> fn;
  Domain domain = Domain::real;
};

Tensor index_tensor(std::vector<int64_t> values, Shape shape = {}) {
  return from_vector(values, shape);
}

Conv2dParams conv_params(int64_t stride, int64_t padding, int64_t dilation = 1,
                         int64_t groups = 1) {
  Conv2dParams p;
  p.stride[0] = p.stride[1] = stride;
  p.padding[0] = p.padding[1] = padding;
  p.dilation[0] = p.dilation[1] = dilation;
  p.groups = groups;
  return p;
}

Pool2dParams pool_params(int64_t kernel, int64_t stride, int64_t padding, bool include_pad = true) {
  Pool2dParams p;
  p.kernel[0] = p.kernel[1] = kernel;
  p.stride[0] = p.stride[1] = stride;
  p.padding[0] = p.padding[1] = padding;
  p.count_include_pad = include_pad;
  return p;
}

std::vector<OpCase> op_table() {
  const Tensor mask = gt(from_vector<double>({1, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1, 1}, {3, 4}), 0.5);
  const Tensor gather_index = index_tensor({0, 2, 1, 1, 3, 0, 2, 2, 0}, {3, 3});
  const Tensor row_index = index_tensor({2, 0, 2});
  const Pool2dParams avg_pad = pool_params(3, 2, 1, false);
  return {
      // Elementwise binary, including broadcasting between shapes.
      {"add", {{3, 4}, {3, 4}}, [](const Inputs& x) { return add(x[0], x[1]); }},
      {"add broadcast", {{2, 3, 4}, {3, 1}}, [](const Inputs& x) { return x[0] + x[1]; }},
      {"add scalar", {{3, 4}}, [](const Inputs& x) { return x[0] + 2.5; }},
      {"sub", {{3, 4}, {4}}, [](const Inputs& x) { return x[0] - x[1]; }},
      {"sub scalar first", {{3, 4}}, [](const Inputs& x) { return 1.5 - x[0]; }},
      {"mul", {{3, 4}, {3, 4}}, [](const Inputs& x) { return x[0] * x[1]; }},
      {"mul broadcast", {{3, 1}, {1, 4}}, [](const Inputs& x) { return x[0] * x[1]; }},
      {"mul scalar", {{3, 4}}, [](const Inputs& x) { return x[0] * -3.0; }},
      {"div", {{3, 4}, {3, 4}}, [](const Inputs& x) { return x[0] / x[1]; }, Domain::positive},
      {"div broadcast",
       {{3, 4}, {4}},
       [](const Inputs& x) { return x[0] / x[1]; },
       Domain::positive},
      {"div scalar first", {{3, 4}}, [](const Inputs& x) { return 2.0 / x[0]; }, Domain::positive},
      {"pow", {{3, 4}, {3, 4}}, [](const Inputs& x) { return pow(x[0], x[1]); }, Domain::positive},
      {"pow scalar", {{3, 4}}, [](const Inputs& x) { return pow(x[0], 3.0); }},
      {"pow fractional",
       {{3, 4}},
       [](const Inputs& x) { return pow(x[0], 1.5); },
       Domain::positive},
      {"maximum", {{3, 4}, {3, 4}}, [](const Inputs& x) { return maximum(x[0], x[1]); }},
      {"minimum", {{3, 4}, {4}}, [](const Inputs& x) { return minimum(x[0], x[1]); }},
      {"where", {{3, 4}, {3, 4}}, [mask](const Inputs& x) { return where(mask, x[0], x[1]); }},
      {"masked_fill", {{3, 4}}, [mask](const Inputs& x) { return masked_fill(x[0], mask, 7.0); }},
      // Elementwise unary.
      {"neg", {{3, 4}}, [](const Inputs& x) { return -x[0]; }},
      {"exp", {{3, 4}}, [](const Inputs& x) { return exp(x[0]); }},
      {"log", {{3, 4}}, [](const Inputs& x) { return log(x[0]); }, Domain::positive},
      {"sqrt", {{3, 4}}, [](const Inputs& x) { return sqrt(x[0]); }, Domain::positive},
      {"rsqrt", {{3, 4}}, [](const Inputs& x) { return rsqrt(x[0]); }, Domain::positive},
      {"square", {{3, 4}}, [](const Inputs& x) { return square(x[0]); }},
      {"reciprocal", {{3, 4}}, [](const Inputs& x) { return reciprocal(x[0]); }, Domain::positive},
      {"abs", {{3, 4}}, [](const Inputs& x) { return abs(x[0]); }},
      {"sign", {{3, 4}}, [](const Inputs& x) { return sign(x[0]) * x[0]; }},
      {"sin", {{3, 4}}, [](const Inputs& x) { return sin(x[0]); }},
      {"cos", {{3, 4}}, [](const Inputs& x) { return cos(x[0]); }},
      {"tanh", {{3, 4}}, [](const Inputs& x) { return tanh(x[0]); }},
      {"sigmoid", {{3, 4}}, [](const Inputs& x) { return sigmoid(x[0]); }},
      {"relu", {{3, 4}}, [](const Inputs& x) { return relu(x[0]); }},
      {"erf", {{3, 4}}, [](const Inputs& x) { return erf(x[0]); }},
      {"gelu", {{3, 4}}, [](const Inputs& x) { return gelu(x[0]); }},
      {"gelu_backward",
       {{3, 4}, {3, 4}},
       [](const Inputs& x) { return gelu_backward(x[0], x[1]); }},
      {"log1p", {{3, 4}}, [](const Inputs& x) { return log1p(x[0]); }, Domain::positive},
      {"expm1", {{3, 4}}, [](const Inputs& x) { return expm1(x[0]); }},
      {"clamp", {{3, 4}}, [](const Inputs& x) { return clamp(x[0], -0.5, 0.5); }},
      // Reductions and softmax.
      {"sum", {{3, 4}}, [](const Inputs& x) { return sum(x[0]); }},
      {"sum dims",
       {{2, 3, 4}},
       [](const Inputs& x) {
         return sum(x[0], {0, 2});
       }},
      {"sum keepdim", {{3, 4}}, [](const Inputs& x) { return sum(x[0], {1}, true); }},
      {"mean", {{3, 4}}, [](const Inputs& x) { return mean(x[0], {0}); }},
      {"amax", {{3, 4}}, [](const Inputs& x) { return amax(x[0], {1}); }},
      {"amin", {{3, 4}}, [](const Inputs& x) { return amin(x[0]); }},
      {"max dim", {{3, 4}}, [](const Inputs& x) { return max(x[0], 1).first; }},
      {"min dim", {{3, 4}}, [](const Inputs& x) { return min(x[0], 0, true).first; }},
      {"var", {{3, 4}}, [](const Inputs& x) { return var(x[0], {1}); }},
      {"stddev", {{3, 4}}, [](const Inputs& x) { return stddev(x[0]); }},
      {"norm", {{3, 4}}, [](const Inputs& x) { return norm(x[0]); }},
      {"norm p1 dims", {{3, 4}}, [](const Inputs& x) { return norm(x[0], 1, {1}); }},
      {"norm p3", {{3, 4}}, [](const Inputs& x) { return norm(x[0], 3, {0}, true); }},
      {"norm inf", {{3, 4}}, [](const Inputs& x) { return norm(x[0], INFINITY); }},
      {"logsumexp", {{3, 4}}, [](const Inputs& x) { return logsumexp(x[0], {1}); }},
      {"softmax", {{3, 4}}, [](const Inputs& x) { return softmax(x[0], 1); }},
      {"softmax dim 0", {{3, 4}}, [](const Inputs& x) { return softmax(x[0], 0); }},
      {"log_softmax", {{3, 4}}, [](const Inputs& x) { return log_softmax(x[0], -1); }},
      {"sum_to",
       {{2, 3, 4}},
       [](const Inputs& x) {
         return sum_to(x[0], {3, 1});
       }},
      // Matrix products.
      {"matmul", {{3, 4}, {4, 2}}, [](const Inputs& x) { return matmul(x[0], x[1]); }},
      {"matmul batched",
       {{2, 3, 4}, {2, 4, 2}},
       [](const Inputs& x) { return matmul(x[0], x[1]); }},
      {"matmul broadcast",
       {{2, 1, 3, 4}, {3, 4, 2}},
       [](const Inputs& x) { return matmul(x[0], x[1]); }},
      {"matmul 3d by 2d", {{2, 3, 4}, {4, 2}}, [](const Inputs& x) { return matmul(x[0], x[1]); }},
      {"matmul vector-matrix", {{4}, {4, 3}}, [](const Inputs& x) { return matmul(x[0], x[1]); }},
      {"matmul matrix-vector", {{3, 4}, {4}}, [](const Inputs& x) { return matmul(x[0], x[1]); }},
      {"outer", {{3}, {4}}, [](const Inputs& x) { return outer(x[0], x[1]); }},
      {"dot", {{4}, {4}}, [](const Inputs& x) { return dot(x[0], x[1]); }},
      // Convolution and pooling.
      {"conv2d", {{2, 2, 5, 5}, {3, 2, 3, 3}}, [](const Inputs& x) { return conv2d(x[0], x[1]); }},
      {"conv2d stride padding bias",
       {{1, 2, 5, 4}, {3, 2, 3, 2}, {3}},
       [](const Inputs& x) { return conv2d(x[0], x[1], x[2], conv_params(2, 1)); }},
      {"conv2d dilation",
       {{1, 1, 6, 6}, {2, 1, 2, 2}},
       [](const Inputs& x) { return conv2d(x[0], x[1], Tensor(), conv_params(1, 1, 2)); }},
      {"conv2d groups",
       {{1, 4, 4, 4}, {4, 2, 3, 3}},
       [](const Inputs& x) { return conv2d(x[0], x[1], Tensor(), conv_params(1, 1, 1, 2)); }},
      {"conv2d pointwise",
       {{2, 3, 3, 3}, {2, 3, 1, 1}},
       [](const Inputs& x) { return conv2d(x[0], x[1]); }},
      {"conv2d_backward_data",
       {{1, 3, 3, 3}, {3, 2, 3, 3}},
       [](const Inputs& x) {
         return conv2d_backward_data(x[0], x[1], {1, 2, 5, 5}, conv_params(1, 0));
       }},
      {"conv2d_backward_weight",
       {{1, 2, 4, 4}, {1, 3, 2, 2}},
       [](const Inputs& x) {
         return conv2d_backward_weight(x[0], x[1], {3, 2, 3, 3}, conv_params(1, 0));
       }},
      {"max_pool2d", {{1, 2, 4, 4}}, [](const Inputs& x) { return max_pool2d(x[0], 2); }},
      {"max_pool2d overlapping",
       {{1, 1, 5, 5}},
       [](const Inputs& x) { return max_pool2d(x[0], 3, 2, 1); }},
      {"max_pool2d_backward",
       {{1, 1, 3, 3}},
       [](const Inputs& x) {
         // Indices of an overlapping pooling, so that some input positions gather twice.
         Tensor winners = from_vector<int64_t>({6, 6, 8, 6, 6, 8, 16, 16, 18}, {1, 1, 3, 3});
         return max_pool2d_backward(x[0], winners, {1, 1, 5, 5});
       }},
      {"avg_pool2d", {{1, 2, 4, 4}}, [](const Inputs& x) { return avg_pool2d(x[0], 2); }},
      {"avg_pool2d padded",
       {{1, 1, 5, 5}},
       [avg_pad](const Inputs& x) { return avg_pool2d(x[0], avg_pad); }},
      {"avg_pool2d_backward",
       {{1, 1, 3, 3}},
       [avg_pad](const Inputs& x) {
         return avg_pool2d_backward(x[0], {1, 1, 5, 5}, avg_pad);
       }},
      // Views and copies.
      {"view",
       {{3, 4}},
       [](const Inputs& x) {
         return view(contiguous(x[0]), {2, 6});
       }},
      {"reshape",
       {{3, 4}},
       [](const Inputs& x) {
         return reshape(x[0], {4, -1});
       }},
      {"flatten", {{2, 3, 2}}, [](const Inputs& x) { return flatten(x[0], 1); }},
      {"transpose", {{3, 4}}, [](const Inputs& x) { return transpose(x[0], 0, 1) * 1.0; }},
      {"permute",
       {{2, 3, 4}},
       [](const Inputs& x) {
         return permute(x[0], {2, 0, 1}) * 1.0;
       }},
      {"slice", {{3, 6}}, [](const Inputs& x) { return slice(x[0], 1, 1, 6, 2); }},
      {"narrow", {{3, 4}}, [](const Inputs& x) { return narrow(x[0], 0, 1, 2); }},
      {"select", {{3, 4}}, [](const Inputs& x) { return select(x[0], 1, -1); }},
      {"expand",
       {{3, 1}},
       [](const Inputs& x) {
         return expand(x[0], {2, 3, 4});
       }},
      {"squeeze", {{3, 1, 4}}, [](const Inputs& x) { return squeeze(x[0]); }},
      {"unsqueeze", {{3, 4}}, [](const Inputs& x) { return unsqueeze(x[0], 1); }},
      {"contiguous", {{3, 4}}, [](const Inputs& x) { return contiguous(transpose(x[0], 0, 1)); }},
      {"clone", {{3, 4}}, [](const Inputs& x) { return clone(x[0]); }},
      {"cat",
       {{2, 4}, {3, 4}},
       [](const Inputs& x) {
         return cat({x[0], x[1]}, 0);
       }},
      {"stack",
       {{3, 4}, {3, 4}},
       [](const Inputs& x) {
         return stack({x[0], x[1]}, 1);
       }},
      {"split", {{5, 4}}, [](const Inputs& x) { return split(x[0], 2, 0)[2]; }},
      {"chunk", {{3, 6}}, [](const Inputs& x) { return chunk(x[0], 3, 1)[1]; }},
      // Indexing.
      {"gather",
       {{3, 4}},
       [gather_index](const Inputs& x) { return gather(x[0], 1, gather_index); }},
      {"scatter_add",
       {{3, 4}, {3, 3}},
       [gather_index](const Inputs& x) { return scatter_add(x[0], 1, gather_index, x[1]); }},
      {"index_select",
       {{3, 4}},
       [row_index](const Inputs& x) { return index_select(x[0], 0, row_index); }},
      {"index_add",
       {{3, 4}, {3, 3}},
       [row_index](const Inputs& x) { return index_add(x[0], 1, row_index, x[1]); }},
      // Batch normalization with the batch's statistics, w.r.t. input, weight and bias.
      {"batch_norm_training",
       {{4, 3, 2, 2}, {3}, {3}},
       [](const Inputs& x) { return batch_norm_training(x[0], x[1], x[2], 1e-5).output; }},
      {"batch_norm_training 3-d",
       {{5, 2, 3}, {2}, {2}},
       [](const Inputs& x) { return batch_norm_training(x[0], x[1], x[2], 1e-5).output; }},
      // A residual block's end: relu(bn(x) + residual), w.r.t. the residual too.
      {"batch_norm_training with a residual and ReLU",
       {{4, 3, 2, 2}, {3}, {3}, {4, 3, 2, 2}},
       [](const Inputs& x) {
         return batch_norm_training(x[0], x[1], x[2], 1e-5, {.residual = x[3], .relu = true})
             .output;
       }},
  };
}

// How a leaf is presented to the op: as is, or as a non-contiguous tensor of the same shape.
enum class Layout { contiguous, transposed, strided, expanded };

const char* name(Layout layout) {
  switch (layout) {
    case Layout::contiguous:
      return "contiguous";
    case Layout::transposed:
      return "transposed";
    case Layout::strided:
      return "strided";
    case Layout::expanded:
      return "expanded";
  }
  return "";
}

// The leaf to create for `shape` under `layout`, and how to turn it into the op's input.
struct Presented {
  Shape leaf_shape;
  std::function<Tensor(const Tensor&)> present;
};

Presented present(const Shape& shape, Layout layout) {
  const int64_t n = static_cast<int64_t>(shape.size());
  switch (layout) {
    case Layout::transposed:
      if (n >= 2) {
        Shape t = shape;
        std::swap(t[n - 1], t[n - 2]);
        return {t, [](const Tensor& leaf) { return transpose(leaf, -1, -2); }};
      }
      break;
    case Layout::strided:
      if (n >= 1) {
        Shape wide = shape;
        wide[n - 1] *= 2;
        int64_t len = shape[n - 1];
        return {wide, [len](const Tensor& leaf) { return slice(leaf, -1, 1, 2 * len, 2); }};
      }
      break;
    case Layout::expanded:
      if (n >= 2) {  // the first dim broadcast from size 1: the op sees stride 0
        Shape one = shape;
        one[0] = 1;
        return {one, [shape](const Tensor& leaf) { return expand(leaf, shape); }};
      }
      break;
    case Layout::contiguous:
      break;
  }
  return {shape, [](const Tensor& leaf) { return leaf; }};
}

Tensor random_leaf(const Shape& shape, Domain domain) {
  Tensor t = domain == Domain::positive ? add(rand(shape, {.dtype = kFloat64}), 0.5)
                                        : randn(shape, {.dtype = kFloat64});
  return t.requires_grad_();
}

}  // namespace

TEST_CASE("gradcheck: every differentiable op, on every input layout") {
  manual_seed(7);
  int checked = 0;
  for (const OpCase& op : op_table()) {
    for (Layout layout :
         {Layout::contiguous, Layout::transposed, Layout::strided, Layout::expanded}) {
      std::vector<Presented> forms;
      Inputs leaves;
      for (const Shape& s : op.shapes) {
        forms.push_back(present(s, layout));
        leaves.push_back(random_leaf(forms.back().leaf_shape, op.domain));
      }
      auto f = [&](const Inputs& xs) {
        Inputs presented;
        for (size_t i = 0; i < xs.size(); ++i) presented.push_back(forms[i].present(xs[i]));
        return op.fn(presented);
      };
      INFO(op.name, " with ", name(layout), " inputs");
      autograd::GradcheckResult first = autograd::gradcheck(f, leaves);
      CHECK_MESSAGE(first.ok, first.message);
      if (layout == Layout::contiguous || layout == Layout::transposed) {
        autograd::GradcheckResult second = autograd::gradgradcheck(f, leaves);
        CHECK_MESSAGE(second.ok, second.message);
      }
      ++checked;
    }
  }
  MESSAGE(checked, " gradchecks over ", op_table().size(), " ops");
}

TEST_CASE("gradcheck reports a wrong gradient rule") {
  // x * x with a rule that forgets the factor 2: the check must catch it.
  auto wrong_square = [](const Inputs& x) {
    Tensor y = mul(detach(x[0]), detach(x[0]));
    return autograd::record("wrong_square", y, {x[0]},
                            [s = autograd::save(x[0])](const autograd::BackwardContext& c) {
                              return std::vector<Tensor>{mul(c.grad, s.get())};
                            });
  };
  Tensor x = randn({3}, {.dtype = kFloat64}).requires_grad_();
  autograd::GradcheckResult r = autograd::gradcheck(wrong_square, {x});
  CHECK_FALSE(r.ok);
  CHECK(r.message.find("finite differences") != std::string::npos);
}

TEST_CASE("gradcheck refuses float32 inputs") {
  Tensor x = randn({3}).requires_grad_();
  CHECK_THROWS_AS(autograd::gradcheck([](const Inputs& a) { return a[0] * 2.0; }, {x}), DTypeError);
}
