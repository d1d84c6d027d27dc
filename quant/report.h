// The quantization report: per-layer SQNR of an int8 model against its float model, model sizes,
// latency at batch 1 and 128, top-1 accuracy of both, as a markdown table; and the sensitivity
// search that keeps the layers int8 hurts most in float until the accuracy drop fits a budget.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/loader.h"
#include "nn/module.h"

namespace nabla::quant {

// A loader batch's images -> the model's input (the normalization it was trained with).
using Preprocess = std::function<Tensor(const Tensor&)>;

// One layer's quantization error: 10 log10(sum f^2 / sum (f - q)^2) over a batch, f the float
// layer's output and q the int8 model's output at the same edge, dequantized. q carries the error
// of every layer before it too, as inference sees it (PyTorch's numeric suite compares the same).
struct LayerError {
  std::string name;  // the float model's layer ("conv1"; a fused chain is named by its first layer)
  std::string type;  // the int8 module's type ("QuantizedConv2d")
  double sqnr_db = 0;
};

struct LatencyPoint {
  int64_t batch = 0;
  double float_ms = 0, int8_ms = 0;  // medians
};

struct QuantReport {
  std::vector<LayerError> layers;
  // Parameters and buffers inference reads (the state dict), in bytes.
  int64_t float_bytes = 0, int8_bytes = 0;
  std::vector<LatencyPoint> latency;
  double float_accuracy = 0, int8_accuracy = 0;  // top-1, percent
  int64_t eval_images = 0;
  int threads = 0;
  std::set<std::string> float_layers;  // layers the int8 model keeps in float (mixed precision)

  // The report as markdown: a per-layer table, then size, latency and accuracy side by side.
  std::string to_markdown() const;
};

struct ReportOptions {
  std::vector<int64_t> latency_batches = {1, 128};
  int64_t warmup_runs = 2;   // untimed forward passes before timing
  int64_t timed_runs = 7;    // the median of these
  int64_t eval_batches = 0;  // batches of the loader to evaluate; 0: all
};

// Top-1 accuracy (percent) of model over up to `batches` batches (0: all) of the loader, inputs
// through preprocess; eval mode, no gradient, the model's mode restored after. Sets `images` to
// the number evaluated when given.
double top1_accuracy(nn::Module& model, data::DataLoader& loader, const Preprocess& preprocess,
                     int64_t batches = 0, int64_t* images = nullptr);

// The bytes of a model's state dict (parameters and buffers).
int64_t state_bytes(const nn::Module& model);

// Median milliseconds of model(x) for x the batch repeated (or cut) to `batch` images, after
// warm-up, in eval mode without gradient; at the current nabla::get_num_threads().
double median_latency_ms(nn::Module& model, const Tensor& example, int64_t batch,
                         int64_t warmup_runs, int64_t timed_runs);

// The per-layer errors: float_model and int8_model (convert's or quantize_dynamic's output) run
// on `batch` (already preprocessed) with forward hooks; a float layer pairs with the int8 module
// of the same name (convert nests it under "model."), a fused chain's int8 module with the
// chain's last float output. Layers without an int8 counterpart are left out.
std::vector<LayerError> layer_errors(nn::Module& float_model, nn::Module& int8_model,
                                     const Tensor& batch);

// Everything above. `calibration_batch` is a preprocessed batch for the SQNR and the latency
// inputs. float_model must compute in float: the unprepared model (or a copy of it).
QuantReport make_report(nn::Module& float_model, nn::Module& int8_model, data::DataLoader& loader,
                        const Preprocess& preprocess, const Tensor& calibration_batch,
                        const ReportOptions& options = {});

// The sensitivity search's result.
struct Sensitivity {
  // Every candidate layer with the accuracy (percent) of the int8 model that keeps it alone in
  // float, most sensitive (highest) first.
  std::vector<std::pair<std::string, double>> ranking;
  double int8_accuracy = 0;           // nothing kept float
  std::set<std::string> kept_float;   // the layers the chosen model keeps float
  double accuracy = 0;                // the chosen model's
  std::shared_ptr<nn::Module> model;  // convert(prepared, {.skip = kept_float})
};

// Ranks the prepared, calibrated model's chain Conv2d/Linear layers by the accuracy gained when
// each alone stays float, then keeps them float in that order until
// float_accuracy - accuracy <= budget_points (or all are float). accuracy(model) evaluates an
// int8 model. A negative budget is a ValueError.
Sensitivity sensitivity_search(nn::Module& prepared_model, double float_accuracy,
                               double budget_points,
                               const std::function<double(nn::Module&)>& accuracy);

}  // namespace nabla::quant
