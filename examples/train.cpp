// nabla-train: trains a model on CIFAR-10 or Fashion-MNIST and prints its test accuracy.
//   nabla-train --dataset cifar10 --model cnn --optimizer sgd --opt momentum=0.9 --epochs 10
// Sections in the order a run goes: options, data, model and optimizer, the epoch loop.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>

#include "nabla.h"

using namespace nabla;

namespace {

// ---- Options ----
struct Config {
  std::string dataset = "cifar10";
  std::string data_dir;
  std::string model = "cnn";
  std::string optimizer = "sgd";
  std::vector<std::string> optimizer_options;  // key=value
  double lr = 0.05;
  double weight_decay = 5e-4;
  std::string schedule = "cosine";
  int64_t warmup_epochs = 1;
  int64_t epochs = 10;
  int64_t batch_size = 128;
  double label_smoothing = 0.1;
  bool augment = true;
  uint64_t seed = 0;
  int threads = 0;  // 0: every core
  int64_t workers = 2;
};

std::string optimizer_list() {
  std::string names;
  for (const auto& info : optim::registered_optimizers()) {
    names += (names.empty() ? "" : ", ") + info.name;
  }
  return names;
}

optim::OptionMap optimizer_options(const Config& config) {
  optim::OptionMap options{{"lr", config.lr}, {"weight_decay", config.weight_decay}};
  for (const std::string& entry : config.optimizer_options) {
    size_t eq = entry.find('=');
    NABLA_CHECK(eq != std::string::npos && eq > 0, ValueError, "--opt: expected key=value, got '",
                entry, "'");
    options.insert_or_assign(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return options;
}

// ---- Data ----
struct Data {
  data::LabeledImages train, test;
  std::string summary;
  data::TransformPtr train_transform, test_transform;
  int64_t channels, image_size;
};

Data load_data(const Config& config) {
  NABLA_CHECK(config.data_dir.empty() || std::filesystem::is_directory(config.data_dir), IOError,
              "--data: '", config.data_dir, "' is not a folder");
  Data d;
  if (config.dataset == "cifar10") {
    data::Cifar10 cifar = data::load_cifar10(config.data_dir);
    d.summary = cifar.summary();
    d.train = std::move(cifar.train);
    d.test = std::move(cifar.test);
    d.train_transform =
        config.augment ? data::cifar10_train_transform() : data::cifar10_test_transform();
    d.test_transform = data::cifar10_test_transform();
  } else if (config.dataset == "fashion-mnist") {
    data::FashionMnist fashion = data::load_fashion_mnist(config.data_dir);
    d.summary = fashion.summary();
    d.train = std::move(fashion.train);
    d.test = std::move(fashion.test);
  } else {
    NABLA_CHECK(false, ValueError, "--dataset: unknown dataset '", config.dataset,
                "'; known: cifar10, fashion-mnist");
  }
  // Images are [N, C, H, W] (CIFAR) or [N, H, W] (IDX).
  d.channels = d.train.images.dim() == 4 ? d.train.images.size(1) : 1;
  d.image_size = d.train.images.size(-1);
  return d;
}

// Fashion-MNIST's IDX images are [N, 28, 28]; models want [N, 1, 28, 28].
Tensor as_nchw(const Tensor& x) { return x.dim() == 3 ? unsqueeze(x, 1) : x; }

// ---- The epoch loop ----
struct Totals {
  double loss = 0;
  int64_t correct = 0, seen = 0;
  double mean_loss() const { return seen ? loss / double(seen) : 0; }
  double accuracy() const { return seen ? 100.0 * double(correct) / double(seen) : 0; }
  void add(const Tensor& logits, const Tensor& targets, const Tensor& loss_value) {
    const int64_t n = targets.size(0);
    loss += loss_value.item() * double(n);
    correct += sum(eq(argmax(logits, 1), targets)).item<int64_t>();
    seen += n;
  }
};

Totals evaluate(nn::Module& model, const Data& d, const Config& config) {
  model.eval();
  NoGradGuard no_grad;
  data::DataLoader loader(
      d.test.dataset(),
      {.batch_size = 500, .num_workers = config.workers, .transform = d.test_transform});
  Totals totals;
  for (const data::Batch& batch : loader) {
    Tensor logits = model(as_nchw(batch.inputs));
    totals.add(logits, batch.targets, nn::cross_entropy(logits, batch.targets));
  }
  return totals;
}

int run(const Config& config) {
  NABLA_CHECK(config.epochs > 0 && config.batch_size > 0, ValueError,
              "--epochs and --batch-size must be positive, got ", config.epochs, " and ",
              config.batch_size);
  manual_seed(config.seed);
  if (config.threads > 0) set_num_threads(config.threads);
  Data d = load_data(config);
  std::cout << d.summary << "\n";

  auto model = nn::models::create(config.model, {.num_classes = int64_t(d.train.classes.size()),
                                                 .in_channels = d.channels,
                                                 .image_size = d.image_size});
  auto optimizer =
      optim::create(config.optimizer, model->named_parameters(), optimizer_options(config));
  data::DataLoader loader(d.train.dataset(), {.batch_size = config.batch_size,
                                              .shuffle = true,
                                              .num_workers = config.workers,
                                              .seed = config.seed,
                                              .transform = d.train_transform});
  const int64_t steps_per_epoch = loader.size();
  auto schedule = optim::create_schedule(
      config.schedule, *optimizer,
      config.schedule == "cosine"
          ? optim::OptionMap{{"t_max", config.epochs * steps_per_epoch},
                             {"warmup_steps", config.warmup_epochs * steps_per_epoch}}
          : optim::OptionMap{{"warmup_steps", config.warmup_epochs * steps_per_epoch}});
  std::cout << config.model << ": " << model->num_parameters() << " parameters; "
            << optimizer->name() << ", " << config.epochs << " epochs of " << steps_per_epoch
            << " steps\n";

  const bool terminal = ::isatty(STDOUT_FILENO);
  using Clock = std::chrono::steady_clock;
  for (int64_t epoch = 1; epoch <= config.epochs; ++epoch) {
    model->train();
    Totals train;
    const auto start = Clock::now();
    int64_t step = 0;
    for (const data::Batch& batch : loader) {
      optimizer->zero_grad();
      Tensor logits = (*model)(as_nchw(batch.inputs));
      Tensor loss =
          nn::cross_entropy(logits, batch.targets, {.label_smoothing = config.label_smoothing});
      NABLA_CHECK(std::isfinite(loss.item()), Error, "training diverged: the loss is ", loss.item(),
                  " at epoch ", epoch, " step ", step + 1);
      backward(loss);
      schedule->step();
      optimizer->step();
      train.add(detach(logits), batch.targets, detach(loss));
      ++step;
      double seconds = std::chrono::duration<double>(Clock::now() - start).count();
      if (terminal) {
        std::printf("\repoch %ld [%ld/%ld] %.0f img/s  loss %.4f  acc %.2f%%  eta %.0fs   ",
                    long(epoch), long(step), long(steps_per_epoch), double(train.seen) / seconds,
                    train.mean_loss(), train.accuracy(),
                    seconds / double(step) * double(steps_per_epoch - step));
        std::fflush(stdout);
      }
    }
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    Totals test = evaluate(*model, d, config);
    std::printf(
        "%sepoch %ld: train loss %.4f acc %.2f%% | test loss %.4f acc %.2f%% | lr %.4g | "
        "%.1fs, %.0f img/s\n",
        terminal ? "\r" : "", long(epoch), train.mean_loss(), train.accuracy(), test.mean_loss(),
        test.accuracy(), schedule->last_lr().front(), seconds, double(train.seen) / seconds);
    if (epoch == config.epochs) std::printf("test accuracy: %.2f%%\n", test.accuracy());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Config config;
  CLI::App app{"nabla-train: train a model and report its test accuracy"};
  app.add_option("--dataset", config.dataset, "cifar10 or fashion-mnist")->capture_default_str();
  app.add_option("--data", config.data_dir,
                 "dataset folder (else $NABLA_DATA, ./data, ../shared/data)");
  app.add_option("--model", config.model, "mlp, cnn, resnet20, resnet18 or fastnet")
      ->capture_default_str();
  app.add_option("--optimizer", config.optimizer, "any registered optimizer")
      ->capture_default_str();
  app.add_option("--opt", config.optimizer_options, "an optimizer option, key=value (repeatable)");
  app.add_option("--lr", config.lr, "peak learning rate")->capture_default_str();
  app.add_option("--weight-decay", config.weight_decay)->capture_default_str();
  app.add_option("--schedule", config.schedule, "any registered schedule")->capture_default_str();
  app.add_option("--warmup", config.warmup_epochs, "epochs of linear warmup")
      ->capture_default_str();
  app.add_option("--epochs", config.epochs)->capture_default_str();
  app.add_option("--batch-size", config.batch_size)->capture_default_str();
  app.add_option("--label-smoothing", config.label_smoothing)->capture_default_str();
  app.add_option("--augment", config.augment, "random crop and flip (CIFAR)")
      ->capture_default_str();
  app.add_option("--seed", config.seed)->capture_default_str();
  app.add_option("--threads", config.threads, "compute threads (0: every core)")
      ->capture_default_str();
  app.add_option("--workers", config.workers, "data loader threads")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "nabla-train: " << e.what() << " (see --help)\n";
    return 2;
  }
  try {
    bool known = false;
    for (const auto& info : optim::registered_optimizers()) known |= info.name == config.optimizer;
    NABLA_CHECK(known, ValueError, "--optimizer: unknown optimizer '", config.optimizer,
                "'; registered: ", optimizer_list());
    return run(config);
  } catch (const Error& e) {
    std::cerr << "nabla-train: " << e.what() << "\n";
    return 2;
  }
}
