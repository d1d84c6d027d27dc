// Schedules: 100 steps of each against torch.optim.lr_scheduler (tests/reference/schedules.py),
// resuming from a checkpoint mid-schedule, holding on skipped steps, and the registry.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "fixtures.h"
#include "optim/registry.h"
#include "optim/schedules.h"
#include "optim/state_dict.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::testing;

namespace {

optim::OptionMap options_of(const nlohmann::json& j) {
  optim::OptionMap options;
  for (const auto& [name, value] : j.items()) {
    if (value.is_boolean()) {
      options.emplace(name, value.get<bool>());
    } else if (value.is_number_integer()) {
      options.emplace(name, value.get<int64_t>());
    } else if (value.is_number()) {
      options.emplace(name, value.get<double>());
    } else if (value.is_string()) {
      options.emplace(name, value.get<std::string>());
    } else {
      options.emplace(name, value.get<std::vector<int64_t>>());
    }
  }
  return options;
}

// An optimizer over one parameter whose closure gives it a gradient of 1 (or NaN).
struct Setup {
  Tensor p = zeros({2}, {.dtype = kFloat64}).requires_grad_();
  std::unique_ptr<optim::Optimizer> optimizer;

  explicit Setup(const std::string& name = "sgd", const optim::OptionMap& options = {{"lr", 0.1}})
      : optimizer(optim::create(name, optim::NamedTensors{{"p", p}}, options)) {}

  optim::StepResult step(double gradient_scale = 1.0) {
    return optimizer->step([&] {
      Tensor loss = sum(p) * gradient_scale;
      backward(loss);
      return loss;
    });
  }
};

}  // namespace

TEST_CASE("schedules: each matches torch.optim.lr_scheduler over 100 steps") {
  nlohmann::json fixture = load_fixture("schedules.json");
  for (const nlohmann::json& c : fixture["cases"]) {
    std::string name = c["name"];
    SUBCASE(name.c_str()) {
      Setup setup(c["optimizer"], options_of(c["optimizer_options"]));
      auto schedule = optim::create_schedule(c["schedule"].get<std::string>(), *setup.optimizer,
                                             options_of(c["options"]));
      std::vector<double> lrs{setup.optimizer->lr()}, momenta;
      std::string momentum = c.value("momentum_option", "");
      if (!momentum.empty()) momenta.push_back(setup.optimizer->option(0, momentum).real());
      for (int64_t t = 0; t < fixture["steps"].get<int64_t>(); ++t) {
        setup.step();
        if (c.contains("metrics")) {
          CHECK(schedule->step(c["metrics"][t].get<double>()));
        } else {
          CHECK(schedule->step());
        }
        lrs.push_back(setup.optimizer->lr());
        if (!momentum.empty()) momenta.push_back(setup.optimizer->option(0, momentum).real());
      }
      check_values(lrs, c["lr"].get<std::vector<double>>(), 1e-6, 1e-12, name + " lr");
      if (!momentum.empty())
        check_values(momenta, c["momentum"].get<std::vector<double>>(), 1e-6, 1e-12,
                     name + " momentum");
    }
  }
  CHECK(fixture["cases"].size() == 15);
}

TEST_CASE("schedules: resuming from a checkpoint continues the same learning rates") {
  struct Case {
    const char* schedule;
    optim::OptionMap options;
  };
  const std::vector<Case> cases = {
      {"cosine", {{"t_max", 50}, {"warmup_steps", 10}, {"warmup_start_factor", 0.1}}},
      {"one_cycle", {{"total_steps", 100}}},
      {"cyclic", {{"max_lr", 1.0}, {"step_size_up", 7}, {"mode", "triangular2"}}},
      {"cosine_restarts", {{"t_0", 4}, {"t_mult", 2}}},
      {"plateau", {{"patience", 2}, {"factor", 0.5}}},
  };
  for (const Case& c : cases) {
    SUBCASE(c.schedule) {
      auto metric = [](int64_t t) { return 1.0 / static_cast<double>(1 + t % 9); };
      auto run = [&](optim::Schedule& schedule, Setup& setup, int64_t from, int64_t to) {
        std::vector<double> lrs;
        for (int64_t t = from; t < to; ++t) {
          setup.step();
          schedule.needs_metric() ? schedule.step(metric(t)) : schedule.step();
          lrs.push_back(setup.optimizer->lr());
        }
        return lrs;
      };
      Setup straight("sgd", {{"lr", 0.1}, {"momentum", 0.9}});
      auto uninterrupted = optim::create_schedule(c.schedule, *straight.optimizer, c.options);
      std::vector<double> expected = run(*uninterrupted, straight, 0, 80);

      Setup first("sgd", {{"lr", 0.1}, {"momentum", 0.9}});
      auto schedule = optim::create_schedule(c.schedule, *first.optimizer, c.options);
      run(*schedule, first, 0, 30);
      // Through text, as a checkpoint stores it.
      std::string saved_schedule = schedule->state_dict().dump();
      optim::StateDict saved_optimizer = first.optimizer->state_dict();
      saved_optimizer.json = nlohmann::json::parse(saved_optimizer.json.dump());

      // A new run builds everything as at the start, then loads: no other arguments.
      Setup resumed("sgd", {{"lr", 0.1}, {"momentum", 0.9}});
      {
        NoGradGuard no_grad;
        copy_(resumed.p, first.p);
      }
      auto restored = optim::create_schedule(c.schedule, *resumed.optimizer, c.options);
      resumed.optimizer->load_state_dict(saved_optimizer);
      restored->load_state_dict(nlohmann::json::parse(saved_schedule));
      CHECK(restored->last_step() == 30);
      std::vector<double> rest = run(*restored, resumed, 30, 80);
      REQUIRE(rest.size() == 50);
      for (size_t i = 0; i < rest.size(); ++i) CHECK(rest[i] == expected[30 + i]);
      CHECK(values(resumed.p) == values(straight.p));
    }
  }
}

TEST_CASE("schedules: a skipped optimizer step holds the schedule") {
  Setup setup;
  auto schedule = optim::create_schedule("one_cycle", *setup.optimizer, {{"total_steps", 10}});
  setup.step();
  CHECK(schedule->step());
  double lr = setup.optimizer->lr();
  optim::StepResult result = setup.step(std::numeric_limits<double>::quiet_NaN());
  CHECK(result.skipped);
  CHECK(setup.optimizer->last_step_skipped());
  CHECK_FALSE(schedule->step());  // the only step since was skipped
  CHECK(schedule->last_step() == 1);
  CHECK(schedule->held_steps() == 1);
  CHECK(setup.optimizer->lr() == lr);
  check_close(setup.p, {-0.004, -0.004}, 1e-12);  // one real update at lr 0.1 / 25

  // Per epoch: one good step among skipped ones is enough to advance.
  setup.step(std::numeric_limits<double>::infinity());
  setup.step();
  setup.step(std::numeric_limits<double>::quiet_NaN());
  CHECK(schedule->step());
  CHECK(schedule->last_step() == 2);
  CHECK(setup.optimizer->skipped_steps() == 3);
  CHECK(setup.optimizer->steps() == 2);
}

TEST_CASE("schedules: warmup in front of a plateau passes the metric on after the warmup") {
  Setup setup;
  auto schedule = optim::create_schedule("plateau", *setup.optimizer,
                                         {{"patience", 0}, {"factor", 0.5}, {"warmup_steps", 4}});
  CHECK(schedule->name() == "warmup(plateau)");
  CHECK(setup.optimizer->lr() == 0.0);
  std::vector<double> lrs;
  for (int t = 0; t < 8; ++t) {
    schedule->step(1.0);  // never improves after the first metric the plateau sees
    lrs.push_back(setup.optimizer->lr());
  }
  check_values(lrs, {0.025, 0.05, 0.075, 0.1, 0.1, 0.05, 0.025, 0.0125}, 1e-12, 0, "lr");
  CHECK_THROWS_AS(schedule->step(), ValueError);
}

TEST_CASE("schedules: one-cycle cycles Adam's beta1 and stays at the end after total_steps") {
  Setup setup("adam", {{"lr", 0.01}});
  auto schedule = optim::create_schedule("one_cycle", *setup.optimizer, {{"total_steps", 20}});
  CHECK(setup.optimizer->option(0, "beta1").real() == doctest::Approx(0.95));
  CHECK(setup.optimizer->lr() == doctest::Approx(0.01 / 25));
  for (int t = 0; t < 30; ++t) schedule->step();
  CHECK(setup.optimizer->lr() == doctest::Approx(0.01 / 25 / 1e4));
  CHECK(setup.optimizer->option(0, "beta1").real() == doctest::Approx(0.95));
}

TEST_CASE("schedules: the registry lists every schedule with typed options, errors name options") {
  std::vector<std::string> names;
  for (const optim::ScheduleInfo& info : optim::registered_schedules()) {
    names.push_back(info.name);
    CHECK_FALSE(info.help.empty());
    bool has_warmup = false;
    for (const optim::OptionSpec& spec : info.options) {
      CHECK_FALSE(spec.help.empty());
      has_warmup |= spec.name == "warmup_steps";
    }
    CHECK(has_warmup);
  }
  CHECK(names == std::vector<std::string>{"fixed", "step", "multistep", "exponential", "polynomial",
                                          "cosine", "cosine_restarts", "cyclic", "one_cycle",
                                          "plateau"});
  Setup setup;
  try {
    optim::create_schedule("cosin", *setup.optimizer);
    FAIL("an unknown schedule must throw");
  } catch (const ValueError& e) {
    CHECK(std::string(e.what()).find("cosine_restarts") != std::string::npos);
  }
  try {
    optim::create_schedule("cosine", *setup.optimizer, {{"T_max", 10}});
    FAIL("an unknown option must throw");
  } catch (const ValueError& e) {
    CHECK(std::string(e.what()).find("t_max, eta_min") != std::string::npos);
  }
  CHECK_THROWS_AS(optim::create_schedule("step", *setup.optimizer, {{"step_size", 0}}), ValueError);
  CHECK_THROWS_AS(optim::create_schedule("cyclic", *setup.optimizer, {{"max_lr", 0.01}}),
                  ValueError);  // below the optimizer's lr, its base
  CHECK_THROWS_AS(optim::create_schedule("cosine", *setup.optimizer, {{"t_max", "ten"}}),
                  ValueError);
  // "fixed" keeps the lr: with warmup_steps, a plain warmup.
  Setup warm;
  auto warmup = optim::create_schedule("fixed", *warm.optimizer, {{"warmup_steps", 2}});
  std::vector<double> lrs{warm.optimizer->lr()};
  for (int t = 0; t < 3; ++t) {
    warmup->step();
    lrs.push_back(warm.optimizer->lr());
  }
  CHECK(lrs == std::vector<double>{0.0, 0.05, 0.1, 0.1});
  // Command-line text converts to the option's type.
  auto schedule = optim::create_schedule("multistep", *setup.optimizer,
                                         {{"milestones", "2,4"}, {"gamma", "0.5"}});
  for (int t = 0; t < 4; ++t) schedule->step();
  CHECK(setup.optimizer->lr() == doctest::Approx(0.025));
}
