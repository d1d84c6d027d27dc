// The trainer's checkpoints: saving the whole training state, resuming from it, and evaluating
// the weights a checkpoint holds (--eval-only).
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>

#include "trainer.h"

namespace nabla::train {

namespace {

// The flags that do not change what a run computes, so a resumed run may differ in them.
bool changes_the_run(const std::string& flag) {
  static const std::vector<std::string> free = {"resume", "checkpoint", "checkpoint-steps",
                                                "log",    "threads",    "workers",
                                                "epochs", "eval-only",  "data"};
  return std::find(free.begin(), free.end(), flag) == free.end();
}

}  // namespace

void Trainer::save_checkpoint() const {
  if (config_.checkpoint.empty()) return;
  nn::Checkpoint checkpoint;
  checkpoint.model = model_->state_dict();
  optim::StateDict optimizer = optimizer_->state_dict();
  checkpoint.groups["optim"] = optimizer.tensors;
  const Generator::State generator = default_generator(device_).state();
  checkpoint.state = {{"position",
                       {{"epoch", position_.epoch},
                        {"batch", position_.batch},
                        {"step", position_.step},
                        {"seconds", elapsed()}}},
                      {"totals",
                       {{"loss", epoch_totals_.loss},
                        {"correct", epoch_totals_.correct},
                        {"seen", epoch_totals_.seen}}},
                      {"optimizer", optimizer.json},
                      {"schedule", schedule_->state_dict()},
                      {"generator", {{"seed", generator.seed}, {"offset", generator.offset}}},
                      {"config", config_record_},
                      {"last_test_accuracy", last_test_accuracy_.value_or(0.0)}};
  if (ema_) {
    optim::StateDict ema = ema_->state_dict();
    checkpoint.groups["ema"] = ema.tensors;
    checkpoint.state["ema"] = ema.json;
  }
  if (early_stopping_) {
    optim::StateDict early = early_stopping_->state_dict();
    checkpoint.groups["early"] = early.tensors;
    checkpoint.state["early_stopping"] = early.json;
  }
  nn::save_checkpoint(config_.checkpoint, checkpoint);
}

void Trainer::resume(const std::string& path) {
  nn::Checkpoint checkpoint = nn::load_checkpoint(path);
  const nlohmann::json& state = checkpoint.state;
  NABLA_CHECK(state.contains("position"), IOError, "--resume: '", path,
              "' holds weights but no training state; evaluate it with --eval-only, or start a "
              "new run");
  for (const auto& [flag, value] : state.at("config").items())
    if (changes_the_run(flag) && config_record_.value(flag, nlohmann::json()) != value)
      std::cout << "note: resuming with --" << flag << " "
                << config_record_.value(flag, nlohmann::json()).dump()
                << " where the checkpoint's run had " << value.dump() << "\n";
  model_->load_state_dict(checkpoint.model);
  optimizer_->load_state_dict({checkpoint.groups["optim"], state.at("optimizer")},
                              /*strict=*/true);
  schedule_->load_state_dict(state.at("schedule"));
  if (ema_) {
    NABLA_CHECK(state.contains("ema"), ValueError, "--ema: the checkpoint '", path,
                "' was written by a run without it");
    ema_->load_state_dict({checkpoint.groups["ema"], state.at("ema")});
  }
  if (early_stopping_) {
    NABLA_CHECK(state.contains("early_stopping"), ValueError, "--early-stopping: the checkpoint '",
                path, "' was written by a run without it");
    early_stopping_->load_state_dict({checkpoint.groups["early"], state.at("early_stopping")});
  }
  const nlohmann::json& generator = state.at("generator");
  default_generator(device_).set_state(
      {generator.at("seed").get<uint64_t>(), generator.at("offset").get<uint64_t>()});
  const nlohmann::json& p = state.at("position");
  position_ = {p.at("epoch"), p.at("batch"), p.at("step"), p.at("seconds")};
  const nlohmann::json& t = state.at("totals");
  epoch_totals_ = {t.at("loss"), t.at("correct"), t.at("seen")};
  if (data_.test) last_test_accuracy_ = state.value("last_test_accuracy", 0.0);
  std::cout << "resuming " << path << " at epoch " << position_.epoch + 1 << ", step "
            << position_.batch << " of " << steps_per_epoch_ << "\n";
}

std::string Trainer::load_reported_weights(const std::string& path) {
  nn::Checkpoint checkpoint = nn::load_checkpoint(path);
  nn::StateDict weights = checkpoint.model;
  std::string which = "its weights";
  auto take = [&](const std::string& group, const std::string& prefix, const std::string& label) {
    if (!checkpoint.groups.contains(group)) return false;
    const std::map<std::string, Tensor> saved(checkpoint.groups.at(group).begin(),
                                              checkpoint.groups.at(group).end());
    for (auto& [name, tensor] : weights)
      if (auto found = saved.find(prefix + name); found != saved.end()) tensor = found->second;
    which = label;
    return true;
  };
  take("early", "best.", "the best epoch's weights (early stopping)") ||
      take("ema", "ema.", "the weight averages (--ema)");
  model_->load_state_dict(weights);
  return which;
}

int Trainer::evaluate_only() {
  const std::string which = load_reported_weights(config_.resume);
  const Totals test = evaluate(data_.test);
  std::printf("%s, %s, on %ld test images: loss %.4f\ntest accuracy: %.2f%%\n",
              config_.resume.c_str(), which.c_str(), long(test.seen), test.mean_loss(),
              test.accuracy());
  return 0;
}

}  // namespace nabla::train
