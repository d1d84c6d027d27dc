// The QAT fine-tuning loop of nabla-quantize.
#include "qat_finetune.h"

#include <cstdio>

#include "config.h"

namespace nabla::quantize {

void qat_finetune(nn::Module& model, const train::TrainingData& data,
                  const std::function<Tensor(const Tensor&)>& preprocess, const Tensor& example,
                  const QatOptions& options, bool quiet) {
  NABLA_CHECK(options.epochs > 0, ValueError, "--qat-epochs: must be positive, got ",
              options.epochs);
  optim::OptionMap opt{{"lr", options.lr}};
  for (auto& [key, value] : train::key_values(options.optimizer_options, "--opt"))
    opt.insert_or_assign(key, value);
  auto optimizer = optim::create(options.optimizer, model.named_parameters(), opt);
  data::DataLoader loader(data.train, data::LoaderOptions{.batch_size = options.batch_size,
                                                          .shuffle = true,
                                                          .num_workers = options.workers,
                                                          .seed = options.seed,
                                                          .transform = data.augmentation});
  quant::QatSchedule schedule{.observer_freeze_epoch = options.observer_freeze_epoch,
                              .bn_freeze_epoch = options.bn_freeze_epoch};
  for (int64_t epoch = 0; epoch < options.epochs; ++epoch) {
    schedule.on_epoch_start(model, epoch, example);
    model.train();
    double loss_sum = 0;
    int64_t correct = 0, seen = 0, steps = 0;
    for (const data::Batch& batch : loader) {
      if (options.steps_per_epoch > 0 && steps >= options.steps_per_epoch) break;
      const Tensor logits = model(preprocess(batch.inputs));
      Tensor loss = nn::cross_entropy(logits, batch.targets);
      optimizer->zero_grad();
      backward(loss);
      optimizer->step();
      loss_sum += loss.item() * double(batch.size());
      correct += sum(eq(argmax(logits, 1), batch.targets)).item<int64_t>();
      seen += batch.size();
      ++steps;
    }
    if (!quiet)
      std::printf("qat epoch %lld: loss %.4f, train accuracy %.2f%% (%lld steps)%s%s\n",
                  static_cast<long long>(epoch + 1), seen ? loss_sum / double(seen) : 0.0,
                  seen ? 100.0 * double(correct) / double(seen) : 0.0,
                  static_cast<long long>(steps),
                  schedule.observers_frozen ? ", observers frozen" : "",
                  schedule.bn_frozen ? ", batch-norm statistics frozen" : "");
  }
  model.eval();
}

}  // namespace nabla::quantize
