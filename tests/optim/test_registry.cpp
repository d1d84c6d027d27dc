// The optimizer registry: every optimizer by name with typed options, defaults and help; clear
// errors for unknown names, options and values; and a new rule registered from outside.
#include <doctest/doctest.h>

#include <set>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "optim/rule.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::testing;

namespace {

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// signSGD (Bernstein et al., 2018), written as a user would write a new optimizer.
struct SignSgd {
  struct Options {
    double lr = 0.1;
    static auto fields() { return std::tuple{optim::Field{"lr", &Options::lr, "step size"}}; }
    void validate() const { optim::check_at_least("sign_sgd", "lr", lr, 0); }
  };
  static void update(const Tensor& param, const Tensor& grad, optim::State&, const Options& o,
                     int64_t) {
    add_(param, sign(grad), -o.lr);
  }
};

}  // namespace

TEST_CASE("registry: every built-in optimizer is registered (registration is explicit)") {
  std::set<std::string> names;
  for (const optim::OptimizerInfo& info : optim::registered_optimizers()) names.insert(info.name);
  CHECK(names == std::set<std::string>{"adadelta",
                                       "adahessian",
                                       "adagrad",
                                       "adam",
                                       "adam_hd",
                                       "adamax",
                                       "adamw",
                                       "bfgs",
                                       "exponentiated_gradient",
                                       "hessian_free",
                                       "kfac",
                                       "lamb",
                                       "lars",
                                       "lbfgs",
                                       "lion",
                                       "nadam",
                                       "natural_gradient",
                                       "newton",
                                       "proximal",
                                       "radam",
                                       "rmsprop",
                                       "sam",
                                       "sgd",
                                       "sgd_hd",
                                       "shampoo",
                                       "svrg"});
}

TEST_CASE("registry: options are typed, with defaults and help, and lr is always there") {
  for (const optim::OptimizerInfo& info : optim::registered_optimizers()) {
    CAPTURE(info.name);
    CHECK_FALSE(info.help.empty());
    CHECK_FALSE(std::string(optim::name(info.family)).empty());
    bool has_lr = info.name == "sam" || info.name == "svrg";  // theirs is their base's
    for (const optim::OptionSpec& spec : info.options) {
      CAPTURE(spec.name);
      CHECK_FALSE(spec.help.empty());
      CHECK(spec.default_value.type() == spec.type);
      if (spec.name == "lr") has_lr = spec.type == optim::OptionType::real;
    }
    CHECK(has_lr);
  }
  optim::OptimizerInfo adamw = optim::optimizer_registry().find("adamw");
  for (const optim::OptionSpec& spec : adamw.options) {
    if (spec.name == "weight_decay") CHECK(spec.default_value.real() == 0.01);
    if (spec.name == "decoupled_weight_decay") CHECK(spec.default_value.boolean());
    if (spec.name == "amsgrad") CHECK_FALSE(spec.default_value.boolean());
  }
}

TEST_CASE("registry: create() takes typed options and names what is wrong") {
  Tensor w = from_vector<float>({1, 2}).requires_grad_();
  auto adamw = optim::create("adamw", {w}, {{"lr", 3e-3}, {"weight_decay", 0.05}});
  CHECK(adamw->name() == "adamw");
  CHECK(adamw->lr() == 3e-3);
  CHECK(adamw->option(0, "beta2").real() == 0.999);

  std::string unknown = message_of([&] { optim::create("adamww", {w}); });
  CHECK(contains(unknown, "unknown optimizer 'adamww'"));
  CHECK(contains(unknown, "adamw"));
  CHECK(contains(unknown, "sgd_hd"));

  std::string option = message_of([&] { optim::create("sgd", {w}, {{"betas", 0.9}}); });
  CHECK(contains(option, "sgd: unknown option 'betas'"));
  CHECK(contains(option, "lr, momentum, dampening, weight_decay, nesterov"));

  CHECK(contains(message_of([&] {
                   optim::create("sgd", {w}, {{"lr", "fast"}});
                 }),
                 "option 'lr' takes a real, got the text 'fast'"));
  CHECK(contains(message_of([&] {
                   optim::create("sgd", {w}, {{"nesterov", 1.0}});
                 }),
                 "option 'nesterov' takes a boolean"));
  CHECK(contains(message_of([&] {
                   optim::create("sgd", {w}, {{"lr", -0.1}});
                 }),
                 "sgd: lr must be >= 0, got -0.1"));
  CHECK(contains(message_of([&] {
                   optim::create("sgd", {w}, {{"nesterov", true}});
                 }),
                 "nesterov needs momentum > 0"));
  CHECK(contains(message_of([&] {
                   optim::create("adam", {w}, {{"beta1", 1.0}});
                 }),
                 "beta1 must be in [0, 1), got 1"));

  // Integers widen, command-line text parses.
  auto sgd = optim::create("sgd", {w}, {{"lr", 1}, {"momentum", "0.9"}, {"nesterov", "true"}});
  CHECK(sgd->lr() == 1.0);
  CHECK(sgd->option(0, "momentum").real() == 0.9);
  CHECK(sgd->option(0, "nesterov").boolean());
}

TEST_CASE("registry: oracles take their own options and hand the rest to the base") {
  Tensor w = from_vector<float>({1, 2}).requires_grad_();
  auto sam = optim::create("sam", {w}, {{"base", "adamw"}, {"rho", 0.1}, {"lr", 0.01}});
  CHECK(sam->name() == "sam(adamw)");
  CHECK(sam->lr() == 0.01);
  CHECK(sam->has_option("weight_decay"));
  std::string message = message_of([&] {
    optim::create("sam", {w}, {{"momentum", 0.9}, {"base", "adam"}});
  });
  CHECK(contains(message, "sam: unknown option 'momentum'"));
  CHECK(contains(message, "rho, adaptive, base, and those of adam: lr, beta1"));
  CHECK(contains(message_of([&] {
                   optim::create("sam", {w}, {{"base", "sam"}});
                 }),
                 "base must be another optimizer"));
  CHECK(contains(message_of([&] {
                   optim::create("sam", {w}, {{"base", "svrg"}});
                 }),
                 "oracles do not stack"));
  CHECK(contains(message_of([&] {
                   optim::create("svrg", {w}, {{"base", "nope"}});
                 }),
                 "unknown optimizer 'nope'"));
}

TEST_CASE("registry: a rule from outside nabla registers with one line and steps") {
  optim::OptimizerRegistry registry;
  optim::register_rule<SignSgd>(registry, "sign_sgd", "signSGD", optim::Family::sign);
  CHECK(registry.contains("sign_sgd"));
  CHECK_THROWS_AS(optim::register_rule<SignSgd>(registry, "sign_sgd", "again", optim::Family::sign),
                  ValueError);
  Tensor w = from_vector<double>({1.0, -2.0, 0.0}).requires_grad_();
  auto optimizer = registry.find("sign_sgd").factory({{"w", w}}, {{"lr", 0.25}});
  optimizer->step([&] {
    Tensor loss = sum(square(w - 0.5));
    backward(loss);
    return loss;
  });
  check_close(w, {0.75, -1.75, 0.25}, 1e-12);
  CHECK_THROWS_AS(registry.find("sign_sgd").factory({{"w", w}}, {{"lr", -1.0}}), ValueError);
}

TEST_CASE("OptionValue: types, conversions and their text") {
  using optim::OptionType;
  using optim::OptionValue;
  CHECK(OptionValue(0.5).type() == OptionType::real);
  CHECK(OptionValue(3).type() == OptionType::integer);
  CHECK(OptionValue(true).type() == OptionType::boolean);
  CHECK(OptionValue("max").type() == OptionType::text);
  CHECK(OptionValue({30, 60}).type() == OptionType::integers);
  CHECK(OptionValue(3).as(OptionType::real, "t", "x").real() == 3.0);
  CHECK(OptionValue(4.0).as(OptionType::integer, "t", "x").integer() == 4);
  CHECK_THROWS_AS(OptionValue(4.5).as(OptionType::integer, "t", "x"), ValueError);
  CHECK(OptionValue("30, 60").as(OptionType::integers, "t", "x").integers() ==
        std::vector<int64_t>{30, 60});
  CHECK(OptionValue(7).as(OptionType::integers, "t", "x").integers() == std::vector<int64_t>{7});
  CHECK_THROWS_AS(OptionValue("1e-3x").as(OptionType::real, "t", "x"), ValueError);
  CHECK_THROWS_AS(OptionValue(1.0).text(), ValueError);
  CHECK(OptionValue(0.001).str() == "0.001");
  CHECK(OptionValue({30, 60}).str() == "30,60");
  CHECK(OptionValue(false).str() == "false");
}
