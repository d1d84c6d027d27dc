// Hardware-aware NAS's latency model: each layer of a macro-space network (the stem, every block
// at its input resolution, the classifier head) is timed once on this machine, with the threads
// nabla runs on, and remembered; a network's predicted latency is the sum of its layers'. A search
// then prices thousands of candidates for the cost of timing their distinct layers.
// bench/bench_nas_latency.cpp checks the predictions against whole networks timed end to end.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "hpo/nas/macro_space.h"

namespace nabla::hpo::nas {

struct LatencyOptions {
  int64_t batch = 1;
  int64_t image_size = 32;
  int64_t in_channels = 3;
  int64_t num_classes = 10;
  // Each layer's and network's time is quant::median_latency_ms's: the median of `runs` forward
  // passes in evaluation mode without autograd, after `warmup` untimed ones.
  int64_t warmup = 3;
  int64_t runs = 15;
};

class LatencyTable {
 public:
  explicit LatencyTable(LatencyOptions options = {});

  // The sum of the network's layers' entries, timing those not in the table yet.
  double predict_ms(const MacroArchitecture& architecture);
  // The whole network built and timed end to end, the reference for predict_ms.
  double measure_ms(const MacroArchitecture& architecture) const;

  int64_t entries() const { return static_cast<int64_t>(entries_.size()); }
  // The options and every entry; from_json takes a table back without timing anything (valid on
  // the machine and thread count it was measured with). A ValueError for a malformed document.
  nlohmann::json to_json() const;
  static LatencyTable from_json(const nlohmann::json& j);

 private:
  // The entry of `key`, timing the layer `make` builds on zeros of `input_shape` when missing
  // (building only then: a layer's initialization draws from the global generator).
  double entry(const std::string& key, const std::function<std::shared_ptr<nn::Module>()>& make,
               const Shape& input_shape);

  LatencyOptions options_;
  std::map<std::string, double> entries_;  // layer key -> ms
};

}  // namespace nabla::hpo::nas
