// nabla-train: trains a model on CIFAR-10, CIFAR-100, Fashion-MNIST or an image folder and
// prints its test accuracy.
//   nabla-train --dataset cifar10 --model resnet20 --optimizer sgd --opt momentum=0.9 --epochs 30
//   nabla-train --config run.json --resume run.safetensors
// config.h holds the flags, datasets.h the data, trainer.h the run itself.
#include <iostream>

#include "config.h"
#include "trainer.h"

using namespace nabla;

namespace {

std::string optimizer_list() {
  std::string names;
  for (const auto& info : optim::registered_optimizers())
    names += (names.empty() ? "" : ", ") + info.name;
  return names;
}

void check_optimizer(const std::string& name) {
  for (const auto& info : optim::registered_optimizers())
    if (info.name == name) return;
  NABLA_CHECK(false, ValueError, "--optimizer: unknown optimizer '", name,
              "'; registered: ", optimizer_list());
}

}  // namespace

int main(int argc, char** argv) {
  train::TrainConfig config;
  CLI::App app{"nabla-train: train a model and report its test accuracy"};
  train::add_flags(app, config);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "nabla-train: " << e.what() << " (see --help)\n";
    return train::kExitUsage;
  }
  try {
    train::validate(config);
    check_optimizer(config.optimizer);
    train::Trainer trainer(config, train::config_json(app));
    return trainer.run();
  } catch (const Error& e) {
    std::cerr << "nabla-train: " << e.what() << "\n";
    return train::kExitUsage;
  }
}
