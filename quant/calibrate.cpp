// calibrate: the observation pass, over a batch source or a data loader.
#include "quant/calibrate.h"

#include "autograd/grad_mode.h"
#include "core/error.h"
#include "quant/prepared.h"

namespace nabla::quant {

int64_t calibrate(nn::Module& model, const std::function<std::optional<Tensor>()>& next_batch,
                  int64_t batches) {
  QuantState* state = quant_state(model);
  NABLA_CHECK(state != nullptr, ValueError, "calibrate: ", model.type_name(),
              " was not prepared (call quant::prepare first)");
  NABLA_CHECK(batches > 0, ValueError, "calibrate: batches must be positive, got ", batches);
  const bool was_training = model.is_training();
  const bool was_observing = state->observing();
  auto restore = [&] {
    state->set_observing(was_observing);
    model.train(was_training);
  };
  int64_t done = 0;
  try {
    NoGradGuard no_grad;
    model.eval();
    state->set_observing(true);
    for (; done < batches; ++done) {
      std::optional<Tensor> x = next_batch();
      if (!x) break;
      model(*x);
    }
  } catch (...) {
    restore();
    throw;
  }
  restore();
  return done;
}

int64_t calibrate(nn::Module& model, data::DataLoader& loader, int64_t batches,
                  const std::function<Tensor(const Tensor&)>& preprocess) {
  auto it = loader.begin();
  auto next = [&]() -> std::optional<Tensor> {
    if (it == loader.end()) return std::nullopt;
    Tensor x = preprocess ? preprocess(it->inputs) : it->inputs;
    ++it;
    return x;
  };
  return calibrate(model, next, batches);
}

}  // namespace nabla::quant
