// quantize_dynamic: an MLP, a SmallCNN and a ResNet-20 with their Linear layers dynamically
// quantized stay close to the float models, the rest shared; the errors.
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/grad_mode.h"
#include "core/creation.h"
#include "core/generator.h"
#include "core/ops.h"
#include "nn/activation.h"
#include "nn/containers.h"
#include "nn/linear.h"
#include "nn/models/cnn.h"
#include "nn/models/mlp.h"
#include "nn/models/resnet.h"
#include "quant/quantize_dynamic.h"
#include "quant/quantized_dynamic_linear.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::quant;
using testing::error_of;

namespace {

double relative_error(const Tensor& q, const Tensor& f) {
  const auto qv = q.to_vector<double>(), fv = f.to_vector<double>();
  REQUIRE(qv.size() == fv.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < qv.size(); ++i) {
    num += (qv[i] - fv[i]) * (qv[i] - fv[i]);
    den += fv[i] * fv[i];
  }
  return std::sqrt(num / den);
}

int64_t count_type(nn::Module& model, const std::string& type) {
  int64_t n = 0;
  for (auto& [name, m] : model.named_modules()) n += m->type_name() == type;
  return n;
}

}  // namespace

TEST_CASE("quantize_dynamic: an MLP's outputs stay within 2% of the float model's") {
  manual_seed(21);
  nn::models::MLP mlp({3 * 8 * 8, 64, 32, 10}, "relu", 0.1);
  mlp.eval();
  auto q = quantize_dynamic(mlp);
  CHECK(count_type(*q, "DynamicQuantizedLinear") == 3);
  CHECK(count_type(*q, "Linear") == 0);
  CHECK(count_type(*q, "Dropout") == 2);  // shared, the identity in eval mode
  NoGradGuard no_grad;
  const Tensor x = randn({16, 3, 8, 8});
  const double err = relative_error((*q)(x), mlp(x));
  MESSAGE("MLP: relative error ", err);
  CHECK(err < 0.02);
  // Each layer's int8 weight is in the state dict.
  int64_t int8 = 0;
  for (auto& [name, t] : q->state_dict()) int8 += t.dtype() == kInt8;
  CHECK(int8 == 3);
}

TEST_CASE("quantize_dynamic: SmallCNN's fc and ResNet-20's fc; convolutions stay float") {
  manual_seed(22);
  nn::models::SmallCNN cnn({.width = 0.25});
  cnn.eval();
  auto qc = quantize_dynamic(cnn);
  CHECK(count_type(*qc, "DynamicQuantizedLinear") == 1);
  CHECK(count_type(*qc, "Conv2d") == 3);
  auto resnet = nn::models::resnet20({.width = 0.5});
  resnet->eval();
  auto qr = quantize_dynamic(*resnet);
  CHECK(count_type(*qr, "DynamicQuantizedLinear") == 1);
  CHECK(count_type(*qr, "BasicBlock") == 9);
  NoGradGuard no_grad;
  const Tensor x = randn({8, 3, 32, 32});
  const double ec = relative_error((*qc)(x), cnn(x)), er = relative_error((*qr)(x), (*resnet)(x));
  MESSAGE("SmallCNN: relative error ", ec, "; ResNet-20: ", er);
  CHECK(ec < 0.02);
  CHECK(er < 0.02);
  // The ResNet keeps its parameter names.
  bool fc_weight = false, stem = false;
  for (auto& [name, t] : qr->state_dict()) {
    fc_weight = fc_weight || (name == "fc.weight" && t.dtype() == kInt8);
    stem = stem || name == "conv1.weight";
  }
  CHECK(fc_weight);
  CHECK(stem);
}

TEST_CASE("quantize_dynamic: a lone Linear; a model type without a rule is an error") {
  manual_seed(23);
  nn::Linear linear(20, 4);
  auto q = quantize_dynamic(linear);
  CHECK(q->type_name() == "DynamicQuantizedLinear");
  const Tensor x = randn({3, 20});
  NoGradGuard no_grad;
  CHECK(relative_error((*q)(x), linear(x)) < 0.02);
  nn::ReLU relu;
  CHECK(error_of([&] { quantize_dynamic(relu); }) ==
        "quantize_dynamic: no rule for a model of type ReLU (Linear, Sequential and its models, "
        "and ResNet have one)");
  CHECK(error_of([&] {
          (*q)(randn({3, 19}));
        }) == "DynamicQuantizedLinear::forward: input [3, 19] does not end in 20 features");
}
