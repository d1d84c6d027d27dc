// What a CIFAR-10 tuning trial may change in a training run: the optimizer and its options, the
// learning rate, weight decay, batch size, label smoothing, dropout, and the network's width and
// depth. Every choice goes through trial.suggest_*, so any sampler can search the space.
#pragma once

#include "config.h"
#include "hpo/trial.h"

namespace nabla::hpo_cifar10 {

// `base` with the trial's suggestions in it. SGD (with Nesterov momentum) and AdamW have
// learning-rate ranges of their own: lr_sgd with momentum, lr_adamw with beta1 and beta2.
train::TrainConfig suggest_training(hpo::Trial& trial, const train::TrainConfig& base);

}  // namespace nabla::hpo_cifar10
