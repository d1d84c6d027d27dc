// The quantization report's measurements (per-layer SQNR, sizes, latency, accuracy), its markdown,
// and the sensitivity search for mixed precision.
#include "quant/report.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "autograd/grad_mode.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/ops.h"
#include "core/parallel.h"
#include "nn/containers.h"
#include "quant/convert.h"
#include "quant/module_graph.h"
#include "quant/quantized_conv.h"
#include "quant/quantized_io.h"
#include "quant/quantized_linear.h"

namespace nabla::quant {

namespace {

// Restores a module's training mode when it goes out of scope.
class EvalGuard {
 public:
  explicit EvalGuard(nn::Module& m) : module_(m), was_training_(m.is_training()) { m.eval(); }
  ~EvalGuard() {
    if (was_training_) module_.train();
  }
  EvalGuard(const EvalGuard&) = delete;
  EvalGuard& operator=(const EvalGuard&) = delete;

 private:
  nn::Module& module_;
  bool was_training_;
};

// The uint8 edge a module's output is at, when the report knows the module's kind: int8
// convolutions and linears, Quantize, and a chain (a layer kept float) that ends in one.
std::optional<EdgeQParams> output_edge(nn::Module& m) {
  if (auto* c = dynamic_cast<QuantizedConv2d*>(&m)) return c->output_qparams();
  if (auto* l = dynamic_cast<QuantizedLinear*>(&m)) return l->output_qparams();
  if (auto* q = dynamic_cast<Quantize*>(&m)) return q->output_qparams();
  if (auto* s = dynamic_cast<nn::Sequential*>(&m); s && s->size() > 0)
    return output_edge(*(*s)[s->size() - 1]);
  return std::nullopt;
}

double sqnr_db(const Tensor& reference, const Tensor& test) {
  const auto f = core::to(reference, kFloat64).to_vector<double>();
  const auto q = core::to(test, kFloat64).to_vector<double>();
  NABLA_CHECK(f.size() == q.size(), ShapeError, "layer_errors: float output has ", f.size(),
              " values but the int8 one ", q.size());
  double signal = 0, noise = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    signal += f[i] * f[i];
    noise += (f[i] - q[i]) * (f[i] - q[i]);
  }
  if (noise == 0) return INFINITY;
  return 10 * std::log10(signal / noise);
}

Tensor repeat_to(const Tensor& example, int64_t batch) {
  const int64_t n = example.size(0);
  NABLA_CHECK(n > 0, ValueError, "median_latency_ms: the example batch is empty");
  if (batch <= n) return core::contiguous(core::slice(example, 0, 0, batch));
  std::vector<Tensor> parts;
  for (int64_t have = 0; have < batch; have += n)
    parts.push_back(core::slice(example, 0, 0, std::min(n, batch - have)));
  return core::contiguous(core::cat(parts, 0));
}

std::string format(const char* spec, double value) {
  char text[64];
  std::snprintf(text, sizeof text, spec, value);
  return text;
}

}  // namespace

double top1_accuracy(nn::Module& model, data::DataLoader& loader, const Preprocess& preprocess,
                     int64_t batches, int64_t* images) {
  EvalGuard eval(model);
  NoGradGuard no_grad;
  int64_t correct = 0, seen = 0, done = 0;
  for (const data::Batch& batch : loader) {
    if (batches > 0 && done >= batches) break;
    ++done;
    const Tensor x = preprocess ? preprocess(batch.inputs) : batch.inputs;
    const Tensor logits = core::contiguous(core::to(model(x), kFloat32));
    NABLA_CHECK(logits.dim() == 2 && logits.size(0) == batch.size(), ShapeError,
                "top1_accuracy: expected logits [", batch.size(), ", classes], got ",
                logits.shape());
    const auto values = logits.to_vector<float>();
    const auto targets = core::to(batch.targets, kInt64).to_vector<int64_t>();
    const int64_t classes = logits.size(1);
    for (int64_t r = 0; r < batch.size(); ++r) {
      auto row = values.begin() + r * classes;
      correct += std::max_element(row, row + classes) - row == targets[size_t(r)];
    }
    seen += batch.size();
  }
  if (images) *images = seen;
  return seen ? 100.0 * double(correct) / double(seen) : 0;
}

int64_t state_bytes(const nn::Module& model) {
  int64_t bytes = 0;
  for (const auto& [name, t] : model.state_dict())
    bytes += t.numel() * int64_t(itemsize(t.dtype()));
  return bytes;
}

double median_latency_ms(nn::Module& model, const Tensor& example, int64_t batch,
                         int64_t warmup_runs, int64_t timed_runs) {
  NABLA_CHECK(batch > 0 && timed_runs > 0 && warmup_runs >= 0, ValueError,
              "median_latency_ms: batch and timed_runs must be positive and warmup_runs not "
              "negative, got batch ",
              batch, ", timed_runs ", timed_runs, ", warmup_runs ", warmup_runs);
  EvalGuard eval(model);
  NoGradGuard no_grad;
  const Tensor x = repeat_to(example, batch);
  for (int64_t i = 0; i < warmup_runs; ++i) model(x);
  std::vector<double> ms;
  for (int64_t i = 0; i < timed_runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    model(x);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  const size_t n = ms.size();
  return n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
}

std::vector<LayerError> layer_errors(nn::Module& float_model, nn::Module& int8_model,
                                     const Tensor& batch) {
  EvalGuard eval_float(float_model), eval_int8(int8_model);
  NoGradGuard no_grad;
  // Each Conv2d/Linear's float output: the last output of its fusion chain, as int8 inference
  // quantizes only that.
  const ModuleGraph graph = trace(float_model, core::slice(batch, 0, 0, 1));
  std::map<std::string, nn::Module*> float_output;  // first layer's name -> module giving output
  for (const GraphNode& node : graph.nodes) {
    const std::string type = node.module->type_name();
    if (type == "Conv2d" || type == "Linear") float_output[node.name] = node.module;
  }
  for (const FusionChain& chain : fusion_chains(graph)) {
    const int64_t last = chain.act >= 0 ? chain.act : chain.bn >= 0 ? chain.bn : chain.layer;
    float_output[graph.nodes[size_t(chain.layer)].name] = graph.nodes[size_t(last)].module;
  }
  // A dynamically quantized model shares its float layers with float_model: those are no pair.
  std::set<nn::Module*> float_modules;
  for (auto& [name, m] : float_model.named_modules()) float_modules.insert(m);
  std::map<std::string, nn::Module*> int8_modules;
  for (auto& [name, m] : int8_model.named_modules())
    if (!float_modules.count(m)) int8_modules[name] = m;

  struct Pair {
    std::string name;
    nn::Module* int8 = nullptr;
    Tensor f, q;
  };
  std::vector<Pair> pairs;
  for (const auto& [name, m] : float_output) {
    nn::Module* q = nullptr;
    for (const std::string& candidate : {"model." + name, name})
      if (auto it = int8_modules.find(candidate); it != int8_modules.end()) q = it->second;
    if (q) pairs.push_back({name, q, {}, {}});
  }
  std::vector<std::pair<nn::Module*, int64_t>> hooks;
  for (Pair& p : pairs) {
    hooks.emplace_back(float_output[p.name],
                       float_output[p.name]->register_forward_hook(
                           [&p](nn::Module&, const Tensor&, const Tensor& out) { p.f = out; }));
    hooks.emplace_back(p.int8,
                       p.int8->register_forward_hook(
                           [&p](nn::Module&, const Tensor&, const Tensor& out) { p.q = out; }));
  }
  try {
    float_model(batch);
    int8_model(batch);
  } catch (...) {
    for (auto& [m, id] : hooks) m->remove_forward_hook(id);
    throw;
  }
  for (auto& [m, id] : hooks) m->remove_forward_hook(id);

  std::vector<LayerError> out;
  for (const GraphNode& node : graph.nodes) {  // in execution order
    auto it = std::find_if(pairs.begin(), pairs.end(),
                           [&](const Pair& p) { return p.name == node.name; });
    if (it == pairs.end() || !it->f.defined() || !it->q.defined()) continue;
    Tensor q = it->q;
    if (q.dtype() == kUInt8) {
      const std::optional<EdgeQParams> edge = output_edge(*it->int8);
      if (!edge) continue;
      q = dequantize_uint8(q, *edge);
    }
    out.push_back({it->name, it->int8->type_name(), sqnr_db(it->f, q)});
  }
  return out;
}

QuantReport make_report(nn::Module& float_model, nn::Module& int8_model, data::DataLoader& loader,
                        const Preprocess& preprocess, const Tensor& calibration_batch,
                        const ReportOptions& options) {
  QuantReport r;
  r.threads = get_num_threads();
  r.layers = layer_errors(float_model, int8_model, calibration_batch);
  r.float_bytes = state_bytes(float_model);
  r.int8_bytes = state_bytes(int8_model);
  for (int64_t b : options.latency_batches)
    r.latency.push_back({b,
                         median_latency_ms(float_model, calibration_batch, b, options.warmup_runs,
                                           options.timed_runs),
                         median_latency_ms(int8_model, calibration_batch, b, options.warmup_runs,
                                           options.timed_runs)});
  r.float_accuracy = top1_accuracy(float_model, loader, preprocess, options.eval_batches);
  r.int8_accuracy =
      top1_accuracy(int8_model, loader, preprocess, options.eval_batches, &r.eval_images);
  return r;
}

std::string QuantReport::to_markdown() const {
  std::ostringstream os;
  os << "| layer | int8 module | SQNR (dB) |\n|---|---|---:|\n";
  for (const LayerError& e : layers)
    os << "| " << e.name << (float_layers.count(e.name) ? " (float)" : "") << " | " << e.type
       << " | " << (std::isinf(e.sqnr_db) ? std::string("inf") : format("%.1f", e.sqnr_db))
       << " |\n";
  os << "\n| | float32 | int8 | ratio |\n|---|---:|---:|---:|\n";
  os << "| size (bytes) | " << float_bytes << " | " << int8_bytes << " | "
     << format("%.2fx", int8_bytes ? double(float_bytes) / double(int8_bytes) : 0) << " |\n";
  for (const LatencyPoint& p : latency)
    os << "| latency, batch " << p.batch << " (ms, median, " << threads << " threads) | "
       << format("%.3f", p.float_ms) << " | " << format("%.3f", p.int8_ms) << " | "
       << format("%.2fx", p.int8_ms > 0 ? p.float_ms / p.int8_ms : 0) << " |\n";
  os << "| top-1 accuracy (%, " << eval_images << " images) | " << format("%.2f", float_accuracy)
     << " | " << format("%.2f", int8_accuracy) << " | "
     << format("%+.2f", int8_accuracy - float_accuracy) << " points |\n";
  return os.str();
}

Sensitivity sensitivity_search(nn::Module& prepared_model, double float_accuracy,
                               double budget_points,
                               const std::function<double(nn::Module&)>& accuracy) {
  NABLA_CHECK(budget_points >= 0, ValueError,
              "sensitivity_search: the accuracy budget must not be negative, got ", budget_points);
  Sensitivity s;
  s.model = convert(prepared_model);
  s.int8_accuracy = s.accuracy = accuracy(*s.model);
  if (float_accuracy - s.accuracy <= budget_points) return s;
  // Candidates: every Conv2d/Linear that a chain converter can keep float.
  for (const auto& [name, m] : model_layers(prepared_model)) {
    const std::string type = m->type_name();
    if (type != "Conv2d" && type != "Linear") continue;
    std::shared_ptr<nn::Module> mixed;
    try {
      mixed = convert(prepared_model, ConvertOptions{.skip = {name}});
    } catch (const ValueError&) {
      continue;  // inside a block type whose converter keeps it int8
    }
    s.ranking.emplace_back(name, accuracy(*mixed));
  }
  std::stable_sort(s.ranking.begin(), s.ranking.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  for (const auto& [name, acc] : s.ranking) {
    s.kept_float.insert(name);
    s.model = convert(prepared_model, ConvertOptions{.skip = s.kept_float});
    s.accuracy = accuracy(*s.model);
    if (float_accuracy - s.accuracy <= budget_points) break;
  }
  return s;
}

}  // namespace nabla::quant
