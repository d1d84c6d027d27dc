#include "trainer.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <numeric>
#include <sstream>

#include "progress.h"

namespace nabla::train {

namespace {

optim::OptionMap with_key_values(optim::OptionMap options, const std::vector<std::string>& entries,
                                 const std::string& flag) {
  for (auto& [key, value] : key_values(entries, flag)) options.insert_or_assign(key, value);
  return options;
}

bool has_option(const std::vector<optim::OptionSpec>& specs, const std::string& name) {
  for (const optim::OptionSpec& spec : specs)
    if (spec.name == name) return true;
  return false;
}

// A 64-bit FNV-1a digest of the tensors' names and bytes: runs whose weights differ in any bit
// get different digests (short of a 1 in 2^64 collision).
std::string checksum(const nn::StateDict& tensors) {
  uint64_t hash = 1469598103934665603ull;
  auto mix = [&hash](const void* data, size_t size) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < size; ++i) hash = (hash ^ bytes[i]) * 1099511628211ull;
  };
  for (const auto& [name, tensor] : tensors) {
    mix(name.data(), name.size());
    Tensor t = contiguous(to(tensor, Device::cpu()));
    mix(t.raw_data(), size_t(t.numel()) * itemsize(t.dtype()));
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

// The mirror image of a batch [N, C, H, W].
Tensor mirrored(const Tensor& x) {
  const int64_t w = x.size(3);
  return index_select(x, 3,
                      arange(double(w - 1), -1.0, -1.0, {.dtype = kInt64, .device = x.device()}));
}

// printf's formatting, into a string.
template <class... Args>
std::string format_figures(const char* format, Args... args) {
  char text[160];
  std::snprintf(text, sizeof text, format, args...);
  return text;
}

// Thrown from the training closure, before backward, when the loss is not finite.
struct NonFiniteLoss {
  double value;
};

// Images whose 3x3 patches --whiten decorrelates.
constexpr int64_t kWhiteningImages = 5000;

}  // namespace

void Totals::add(const Tensor& logits, const Tensor& targets, double batch_mean_loss) {
  const int64_t n = targets.size(0);
  loss += batch_mean_loss * double(n);
  correct += sum(eq(argmax(logits, 1), targets)).item<int64_t>();
  seen += n;
}

Trainer::Trainer(const TrainConfig& config, nlohmann::json config_record, RunHooks hooks)
    : Trainer(config, std::move(config_record), load_training_data(config), std::move(hooks)) {}

Trainer::Trainer(const TrainConfig& config, nlohmann::json config_record, TrainingData data,
                 RunHooks hooks)
    : config_(config),
      config_record_(std::move(config_record)),
      hooks_(std::move(hooks)),
      data_(std::move(data)) {
  device_ = config_.device == "cuda" ? Device::cuda() : Device::cpu();
  backend(device_);  // a clear DeviceError now, rather than at the first batch
  manual_seed(config_.seed);
  if (config_.threads > 0) set_num_threads(config_.threads);
  NABLA_CHECK(data_.test || data_.validation, ValueError,
              "a training run needs a test set or a validation split to evaluate on");
  model_ = nn::models::create(config_.model, {.num_classes = int64_t(data_.classes.size()),
                                              .in_channels = data_.channels,
                                              .image_size = data_.image_size,
                                              .width = config_.width,
                                              .dropout = config_.dropout,
                                              .depth = config_.depth});
  apply_init();
  const Shape channel_shape = {1, int64_t(data_.mean.size()), 1, 1};
  std::vector<float> inverse_std;
  for (float s : data_.std) inverse_std.push_back(1.0f / s);
  mean_ = from_vector(data_.mean, channel_shape);
  inverse_std_ = from_vector(inverse_std, channel_shape);
  if (config_.whiten) whiten();
  model_->to(device_);
  mean_ = to(mean_, device_);
  inverse_std_ = to(inverse_std_, device_);
  if (config_.eval_only) return;

  optim::OptionMap options{{"lr", config_.lr}};
  // Line-search methods (L-BFGS, BFGS, Newton) take no weight decay.
  if (has_option(optim::optimizer_registry().find(config_.optimizer).options, "weight_decay"))
    options.insert_or_assign("weight_decay", config_.weight_decay);
  optimizer_ = optim::create(config_.optimizer, model_->named_parameters(),
                             with_key_values(options, config_.optimizer_options, "--opt"));
  // K-FAC and the natural gradient read the layers' inputs and output gradients through hooks.
  optim::attach_model(*optimizer_, *model_);
  loader_.emplace(data_.train, data::LoaderOptions{.batch_size = config_.batch_size,
                                                   .shuffle = true,
                                                   .num_workers = config_.workers,
                                                   .seed = config_.seed,
                                                   .transform = data_.augmentation});
  steps_per_epoch_ = loader_->size();
  build_schedule();
  if (config_.ema > 0)
    ema_ = std::make_unique<optim::ExponentialMovingAverage>(
        model_->state_dict(), optim::ExponentialMovingAverage::Options{.decay = config_.ema});
  if (config_.early_stopping > 0)
    early_stopping_ = std::make_unique<optim::EarlyStopping>(
        optim::EarlyStopping::Options{.patience = config_.early_stopping});
  NABLA_CHECK(data_.validation || !hooks_.test_at_end_only ||
                  (!early_stopping_ && !schedule_->needs_metric()),
              ValueError,
              "early stopping and the plateau schedule watch a validation split, or the test set "
              "each epoch; a run that tests only at its end needs --validation");
  if (!config_.resume.empty()) {
    resume(config_.resume);
    log_ = MetricsLog::resume(config_.log, position_.step);
    log_.write({{"type", "resume"},
                {"step", position_.step},
                {"epoch", position_.epoch},
                {"from", config_.resume}});
  } else {
    log_ = MetricsLog(config_.log);
    nlohmann::json first = {{"type", "config"},
                            {"step", 0},
                            {"config", config_record_},
                            {"data", data_.summary},
                            {"parameters", model_->num_parameters()},
                            {"steps_per_epoch", steps_per_epoch_}};
    log_.write(first);
  }
}

void Trainer::build_schedule() {
  // Schedules count optimizer steps, except plateau, which follows the epoch's validation loss.
  std::vector<optim::OptionSpec> specs;
  for (const optim::ScheduleInfo& info : optim::registered_schedules())
    if (info.name == config_.schedule) specs = info.options;
  const bool per_epoch = config_.schedule == "plateau";
  const int64_t unit = per_epoch ? 1 : steps_per_epoch_;
  const int64_t warmup = std::llround(config_.warmup_epochs * double(unit));
  optim::OptionMap options{{"warmup_steps", warmup}};
  // The schedule behind the warmup starts when the warmup ends.
  for (const char* length : {"t_max", "total_iters", "total_steps"})
    if (has_option(specs, length))
      options.insert_or_assign(length, std::max<int64_t>(config_.epochs * unit - warmup, 1));
  if (has_option(specs, "max_lr")) options.insert_or_assign("max_lr", config_.lr);
  schedule_ = optim::create_schedule(
      config_.schedule, *optimizer_,
      with_key_values(std::move(options), config_.schedule_options, "--sched-opt"));
}

void Trainer::apply_init() {
  if (config_.init == "default") return;
  model_->apply([this](nn::Module& module) {
    auto* layer = dynamic_cast<nn::WeightedLayer*>(&module);
    if (layer == nullptr) return;
    if (config_.init == "xavier")
      nn::init::xavier_uniform_(layer->weight());
    else
      nn::init::kaiming_normal_(layer->weight(), 0, nn::init::FanMode::fan_in, "relu");
    for (auto& [name, parameter] : module.named_parameters(/*recurse=*/false))
      if (name == "bias") nn::init::zeros_(parameter);
  });
}

void Trainer::whiten() {
  auto* fastnet = dynamic_cast<nn::models::FastNet*>(model_.get());
  NABLA_CHECK(fastnet != nullptr, ValueError, "--whiten: only fastnet has a whitening stem, not ",
              config_.model);
  // The first images as training sees them, less the augmentation: enough patches for a
  // covariance of 27 dimensions many times over.
  const int64_t count = std::min<int64_t>(kWhiteningImages, data_.train->size());
  std::vector<int64_t> first(static_cast<size_t>(count));
  std::iota(first.begin(), first.end(), int64_t{0});
  const Tensor images = data::to_float(data_.train->get_batch(first).inputs);
  fastnet->whiten_stem((images - mean_) * inverse_std_);
}

double Trainer::elapsed() const {
  return position_.seconds +
         std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string Trainer::describe_run() const {
  std::ostringstream os;
  os << config_.model << ": " << model_->num_parameters() << " parameters; " << optimizer_->name()
     << " with " << schedule_->name() << " schedule, " << config_.epochs << " epochs of "
     << steps_per_epoch_ << " steps (batch " << config_.batch_size << ") on " << device_ << ", "
     << get_num_threads() << " threads";
  if (early_stopping_ || schedule_->needs_metric())
    os << "\n"
       << (data_.validation ? "early stopping and the plateau schedule watch the validation loss"
                            : "early stopping and the plateau schedule watch the TEST loss (pass "
                              "--validation 0.1 to hold out a validation split)");
  if (!optimizer_->has_option("weight_decay") && config_.weight_decay != 0)
    os << "\n" << optimizer_->name() << " has no weight decay: --weight-decay is not used";
  return os.str();
}

Tensor Trainer::normalized(const Tensor& images) const {
  return (to(images, device_) - mean_) * inverse_std_;
}

Tensor Trainer::predict(const Tensor& inputs) {
  Tensor logits = (*model_)(inputs);
  return config_.tta ? (logits + (*model_)(mirrored(inputs))) * 0.5 : logits;
}

void Trainer::for_each_prediction(
    const std::shared_ptr<const data::Dataset>& dataset,
    const std::function<void(const data::Batch&, const Tensor&)>& visit) {
  const bool was_training = model_->is_training();
  model_->eval();
  NoGradGuard no_grad;
  data::DataLoader loader(dataset, {.batch_size = 500, .num_workers = config_.workers});
  for (const data::Batch& batch : loader) visit(batch, predict(normalized(batch.inputs)));
  if (was_training) model_->train();
}

Totals Trainer::evaluate(const std::shared_ptr<const data::Dataset>& dataset) {
  Totals totals;
  for_each_prediction(dataset, [&](const data::Batch& batch, const Tensor& logits) {
    const Tensor targets = to(batch.targets, device_);
    totals.add(logits, targets, nn::cross_entropy(logits, targets).item());
  });
  return totals;
}

Trainer::EpochEnd Trainer::train_epoch() {
  model_->train();
  std::optional<ProgressBar> bar;
  if (!hooks_.quiet)
    bar.emplace(position_.epoch + 1, config_.epochs, steps_per_epoch_, position_.batch,
                ::isatty(STDOUT_FILENO));
  loader_->resume_at(uint64_t(position_.epoch), position_.batch);
  const std::vector<Tensor> parameters = model_->parameters();
  int64_t images = 0;
  for (const data::Batch& batch : *loader_) {
    Tensor inputs = normalized(batch.inputs), targets = to(batch.targets, device_);
    // The closure's first run, at the weights the step starts from, is the one the logs report;
    // optimizers with line searches or curvature products run it again.
    Tensor logits;
    double loss_value = 0, grad_norm = 0;
    const optim::Closure closure = [&] {
      const bool first = !logits.defined();
      Tensor out = (*model_)(inputs);
      Tensor loss = nn::cross_entropy(out, targets, {.label_smoothing = config_.label_smoothing});
      if (first) {
        loss_value = loss.item();
        if (position_.step + 1 == config_.inject_nan)
          loss_value = std::numeric_limits<double>::quiet_NaN();
        // Leaving the step before backward keeps the weights and the optimizer state as they
        // were. Later runs, at trial weights, leave a non-finite loss to the optimizer.
        if (!std::isfinite(loss_value)) throw NonFiniteLoss{loss_value};
        logits = detach(out);
      }
      backward(loss);
      if (config_.clip_norm > 0) {
        const double norm = optim::clip_grad_norm(parameters, config_.clip_norm);
        if (first) grad_norm = norm;
      }
      return loss;
    };
    const double lr = optimizer_->lr();
    try {
      optimizer_->step(closure);
    } catch (const NonFiniteLoss& error) {
      if (bar) bar->finish();
      std::cerr << "nabla-train: the loss is " << error.value << " at epoch " << position_.epoch + 1
                << ", step " << position_.batch + 1 << " of " << steps_per_epoch_ << " (step "
                << position_.step + 1 << " in all); training stopped. "
                << (config_.checkpoint.empty()
                        ? "No checkpoint was kept (see --checkpoint)."
                        : "The last good checkpoint, " + config_.checkpoint + ", is unchanged.")
                << " A lower --lr or a --clip-norm may help.\n";
      return EpochEnd::diverged;
    }
    nlohmann::json record = {{"type", "step"},
                             {"epoch", position_.epoch + 1},
                             {"step", position_.step + 1},
                             {"loss", loss_value},
                             {"lr", lr}};
    if (config_.clip_norm > 0) record["grad_norm"] = grad_norm;
    if (!schedule_->needs_metric()) schedule_->step();
    if (ema_) ema_->update();
    ++position_.step;
    ++position_.batch;
    const int64_t correct_before = epoch_totals_.correct;
    epoch_totals_.add(logits, targets, loss_value);
    images += targets.size(0);
    record["accuracy"] =
        100.0 * double(epoch_totals_.correct - correct_before) / double(targets.size(0));
    record["time"] = elapsed();
    log_.write(record);
    if (bar)
      bar->update(position_.batch, images, epoch_totals_.mean_loss(), epoch_totals_.accuracy());
    if (config_.checkpoint_steps > 0 && position_.step % config_.checkpoint_steps == 0 &&
        position_.batch < steps_per_epoch_)
      save_checkpoint();
  }
  if (bar) bar->finish();
  return EpochEnd::completed;
}

Trainer::Verdict Trainer::end_epoch(const Totals& train, double epoch_seconds, int64_t images) {
  if (ema_) ema_->apply();
  EpochSummary summary{.epoch = position_.epoch + 1, .train = train, .seconds = epoch_seconds};
  const bool last_epoch = position_.epoch + 1 == config_.epochs;
  if (data_.test && (last_epoch || !hooks_.test_at_end_only)) summary.test = evaluate(data_.test);
  if (data_.validation) summary.validation = evaluate(data_.validation);
  std::optional<double> watched;
  if (summary.validation)
    watched = summary.validation->mean_loss();
  else if (summary.test)
    watched = summary.test->mean_loss();
  const bool patience_spent =
      early_stopping_ && watched && early_stopping_->step(*watched, model_->state_dict());
  if (ema_) ema_->restore();
  if (schedule_->needs_metric() && watched) schedule_->step(*watched);
  if (summary.test) last_test_accuracy_ = summary.test->accuracy();
  if (summary.validation) last_validation_accuracy_ = summary.validation->accuracy();

  const int64_t epoch = summary.epoch;
  nlohmann::json record = {{"type", "epoch"},
                           {"epoch", epoch},
                           {"step", position_.step},
                           {"time", elapsed()},
                           {"lr", optimizer_->lr()},
                           {"train_loss", train.mean_loss()},
                           {"train_accuracy", train.accuracy()},
                           {"epoch_time", epoch_seconds},
                           {"images_per_second", double(images) / epoch_seconds}};
  std::string line = format_figures("epoch %ld/%ld: train loss %.4f acc %.2f%%", long(epoch),
                                    long(config_.epochs), train.mean_loss(), train.accuracy());
  if (summary.validation) {
    record["val_loss"] = summary.validation->mean_loss();
    record["val_accuracy"] = summary.validation->accuracy();
    line += format_figures(" | val loss %.4f acc %.2f%%", summary.validation->mean_loss(),
                           summary.validation->accuracy());
  }
  if (summary.test) {
    record["test_loss"] = summary.test->mean_loss();
    record["test_accuracy"] = summary.test->accuracy();
    line += format_figures(" | test loss %.4f acc %.2f%%", summary.test->mean_loss(),
                           summary.test->accuracy());
  }
  line += format_figures(" | lr %.4g | %.1fs, %.0f img/s", optimizer_->lr(), epoch_seconds,
                         double(images) / epoch_seconds);
  if (!hooks_.quiet) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }
  log_.write(record);

  ++position_.epoch;
  position_.batch = 0;
  epoch_totals_ = {};
  save_checkpoint();
  if (hooks_.after_epoch && hooks_.after_epoch(summary)) return Verdict::hook;
  return patience_spent ? Verdict::early_stopping : Verdict::train_on;
}

int Trainer::finish(const std::string& stopped) {
  result_.stopped = stopped;
  result_.validation_accuracy = last_validation_accuracy_;
  result_.test_accuracy = last_test_accuracy_;
  nlohmann::json record = {{"type", "end"},
                           {"stopped", stopped},
                           {"epoch", position_.epoch},
                           {"step", position_.step},
                           {"time", elapsed()}};
  if (early_stopping_ && early_stopping_->restore_best(model_->state_dict())) {
    if (data_.test) result_.test_accuracy = evaluate(data_.test).accuracy();
    if (data_.validation) result_.validation_accuracy = evaluate(data_.validation).accuracy();
    record["best_epoch"] = early_stopping_->best_step();
    if (!hooks_.quiet)
      std::printf("restored the weights of epoch %ld (best validation loss %.4f)\n",
                  long(early_stopping_->best_step()), *early_stopping_->best());
  }
  result_.epochs = position_.epoch;
  result_.steps = position_.step;
  result_.seconds = elapsed();
  result_.weights_checksum = checksum(model_->state_dict());
  if (result_.validation_accuracy) record["val_accuracy"] = *result_.validation_accuracy;
  if (result_.test_accuracy) record["test_accuracy"] = *result_.test_accuracy;
  record["weights_checksum"] = result_.weights_checksum;
  log_.write(record);
  if (!hooks_.quiet) {
    if (result_.test_accuracy)
      std::printf("test accuracy: %.2f%%\n", *result_.test_accuracy);
    else
      std::printf("validation accuracy: %.2f%%\n", *result_.validation_accuracy);
  }
  return 0;
}

std::vector<int64_t> Trainer::predictions(const std::shared_ptr<const data::Dataset>& dataset) {
  std::vector<int64_t> out;
  out.reserve(size_t(dataset->size()));
  for_each_prediction(dataset, [&](const data::Batch&, const Tensor& logits) {
    const Tensor labels = contiguous(to(argmax(logits, 1), Device::cpu()));
    const int64_t* p = labels.data<int64_t>();
    out.insert(out.end(), p, p + labels.numel());
  });
  return out;
}

int Trainer::run() {
  if (!hooks_.quiet) std::cout << data_.summary << "\n";
  if (config_.eval_only) return evaluate_only();
  if (!hooks_.quiet) std::cout << describe_run() << "\n";
  start_ = std::chrono::steady_clock::now();
  while (position_.epoch < config_.epochs) {
    const auto epoch_start = std::chrono::steady_clock::now();
    const int64_t seen_before = epoch_totals_.seen;
    if (train_epoch() == EpochEnd::diverged) {
      log_.write({{"type", "end"},
                  {"stopped", "diverged"},
                  {"step", position_.step + 1},
                  {"time", elapsed()}});
      result_ = {.stopped = "diverged",
                 .epochs = position_.epoch,
                 .steps = position_.step,
                 .seconds = elapsed()};
      return kExitDiverged;
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
    switch (end_epoch(epoch_totals_, seconds, epoch_totals_.seen - seen_before)) {
      case Verdict::train_on:
        break;
      case Verdict::hook:
        return finish("hook");
      case Verdict::early_stopping:
        if (!hooks_.quiet)
          std::printf("early stopping: no better loss for %ld epochs\n",
                      long(config_.early_stopping));
        return finish("early_stopping");
    }
  }
  return finish("completed");
}

}  // namespace nabla::train
