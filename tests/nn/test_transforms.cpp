// The mechanisms quantization builds on: weight transforms on Linear/Conv2d, input and output
// transforms on any module (and the fused paths that step aside for them), removing a child, and
// BatchNorm's frozen statistics.
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "core/creation.h"
#include "core/generator.h"
#include "nn/activation.h"
#include "nn/conv.h"
#include "nn/dropout.h"
#include "nn/linear.h"
#include "nn/normalization.h"
#include "testing.h"

using namespace nabla;
using testing::check_close;
using testing::error_of;
using testing::values;

TEST_CASE("weight transform: forward uses transform(weight), gradients reach the stored weight") {
  manual_seed(1);
  nn::Linear fc(3, 2);
  Tensor x = randn({4, 3});
  Tensor plain = fc(x);
  fc.set_weight_transform([](const Tensor& w) { return mul(w, 2.0); });
  CHECK(fc.has_weight_transform());
  // y = x (2W)^T + b = 2 (y_plain - b) + b.
  check_close(fc(x), values(sub(mul(plain, 2.0), fc.bias())), 1e-5);
  check_close(fc.effective_weight(), values(mul(fc.weight(), 2.0)), 1e-6);
  // weight() is still the stored parameter, and d sum(y) / dW = 2 * column sums of x.
  CHECK(fc.weight().requires_grad());
  backward(sum(fc(x)));
  std::vector<double> column = values(sum(x, {0}));
  check_close(
      fc.weight().grad(),
      {2 * column[0], 2 * column[1], 2 * column[2], 2 * column[0], 2 * column[1], 2 * column[2]},
      1e-5);
  fc.clear_weight_transform();
  check_close(fc(x), values(plain), 1e-6);

  // Conv2d the same; DropConnect (p = 0 in eval, and in training) uses the transformed weight.
  nn::Conv2d conv(2, 3, 3, {.padding = 1});
  Tensor image = randn({1, 2, 4, 4});
  Tensor conv_plain = conv(image);
  conv.set_weight_transform([](const Tensor& w) { return neg(w); });
  Tensor bias = reshape(conv.bias(), {1, 3, 1, 1});
  check_close(conv(image), values(sub(mul(bias, 2.0), conv_plain)), 1e-5);
  auto layer = std::make_shared<nn::Linear>(3, 2);
  nn::DropConnect drop(layer, 1e-9);
  layer->set_weight_transform([](const Tensor& w) { return mul(w, 0.0); });
  // A zero weight leaves only the bias, whatever the mask.
  Tensor dropped = drop(x);
  check_close(dropped, values(expand(layer->bias(), {4, 2})), 1e-6);
}

TEST_CASE("output transforms replace the output in order; hooks see the final output") {
  nn::ReLU act;
  Tensor x = from_vector<float>({-1, 2, -3, 4});
  std::vector<double> hook_saw;
  act.register_forward_hook(
      [&](nn::Module&, const Tensor&, const Tensor& out) { hook_saw = values(out); });
  int64_t add_one = act.register_output_transform(
      [](nn::Module&, const Tensor&, const Tensor& out) { return add(out, 1.0); });
  act.register_output_transform(
      [](nn::Module&, const Tensor& in, const Tensor& out) { return mul(out, in); });
  CHECK(act.has_forward_hooks());
  // relu(x) = [0, 2, 0, 4]; + 1 = [1, 3, 1, 5]; * x = [-1, 6, -3, 20].
  check_close(act(x), {-1, 6, -3, 20});
  CHECK(hook_saw == std::vector<double>{-1, 6, -3, 20});
  act.remove_output_transform(add_one);
  check_close(act(x), {0, 4, 0, 16});

  // An input transform changes what forward and the hooks see.
  nn::ReLU shifted;
  Tensor hook_input;
  shifted.register_forward_hook(
      [&](nn::Module&, const Tensor& in, const Tensor&) { hook_input = in; });
  int64_t handle =
      shifted.register_input_transform([](nn::Module&, const Tensor& in) { return neg(in); });
  check_close(shifted(x), {1, 0, 3, 0});
  check_close(hook_input, {1, -2, 3, -4});
  shifted.remove_input_transform(handle);
  check_close(shifted(x), {0, 2, 0, 4});
}

TEST_CASE("batch_norm_activation runs module by module when a transform changes bn's output") {
  manual_seed(2);
  Tensor x = randn({4, 3, 3, 3});
  for (bool training : {true, false}) {
    INFO("training ", training);
    nn::BatchNorm2d bn(3), reference(3);
    nn::ReLU act;
    bn.train(training);
    reference.train(training);
    // Negating bn's output: relu(-bn(x)) is what the modules give one by one, which the fused
    // epilogue (relu(bn(x))) would miss.
    bn.register_output_transform(
        [](nn::Module&, const Tensor&, const Tensor& out) { return neg(out); });
    check_close(nn::batch_norm_activation(bn, act, x), values(relu(neg(reference(x)))), 1e-5);
  }
}

TEST_CASE("remove_module unregisters a child and its state") {
  nn::Linear fc(2, 2);
  fc.register_module("extra", std::make_shared<nn::BatchNorm1d>(2));
  CHECK(fc.state_dict().size() == 2 + 5);
  auto removed = fc.remove_module("extra");
  CHECK(removed->type_name() == "BatchNorm1d");
  CHECK(fc.state_dict().size() == 2);
  CHECK(error_of([&] { fc.remove_module("extra"); }) ==
        "Linear::remove_module: no child named 'extra'");
}

TEST_CASE("BatchNorm with frozen statistics: running values in training, none updated") {
  manual_seed(3);
  nn::BatchNorm2d bn(2);
  {
    // Non-trivial running statistics from a few batches.
    NoGradGuard no_grad;
    for (int i = 0; i < 3; ++i) bn(add(mul(randn({8, 2, 3, 3}), 2.0), 1.0));
  }
  Tensor mean = clone(bn.running_mean()), var = clone(bn.running_var());
  Tensor x = randn({4, 2, 3, 3});
  x.requires_grad_(true);
  bn.eval();
  Tensor eval_out = bn(x);
  bn.train();
  bn.freeze_statistics();
  CHECK(bn.statistics_frozen());
  Tensor y = bn(x);
  check_close(y, values(eval_out), 1e-6);
  CHECK(values(bn.running_mean()) == values(mean));
  CHECK(values(bn.running_var()) == values(var));
  CHECK(bn.num_batches_tracked().item<int64_t>() == 3);
  // The fused epilogue (ReLU, residual) takes the frozen path too.
  nn::ReLU act;
  Tensor residual = randn({4, 2, 3, 3});
  check_close(nn::batch_norm_activation(bn, act, x, residual),
              values(relu(add(eval_out, residual))), 1e-6);
  CHECK(values(bn.running_mean()) == values(mean));
  // Gradients: dy/dbias = 1 per element, dy/dweight = x_hat, dy/dx = weight / sqrt(var + eps).
  backward(sum(y));
  check_close(bn.bias().grad(), {36, 36});
  std::vector<double> v = values(var);
  std::vector<double> dx = values(x.grad());
  CHECK(dx[0] == doctest::Approx(1 / std::sqrt(v[0] + 1e-5)).epsilon(1e-5));
  CHECK(dx[71] == doctest::Approx(1 / std::sqrt(v[1] + 1e-5)).epsilon(1e-5));
  REQUIRE(bn.weight().grad().defined());
  bn.freeze_statistics(false);
  bn(x);
  CHECK(bn.num_batches_tracked().item<int64_t>() == 4);

  nn::BatchNorm1d untracked(2, {.track_running_stats = false});
  CHECK(error_of([&] { untracked.freeze_statistics(); }) ==
        "BatchNorm1d::freeze_statistics: a layer without running statistics "
        "(track_running_stats false) has none to freeze");
}
