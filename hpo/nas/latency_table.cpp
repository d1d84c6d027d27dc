// Timing layers once and summing them: Note [layer keys] below.
#include "hpo/nas/latency_table.h"

#include <sstream>
#include <vector>

#include "autograd/ops/views.h"
#include "core/creation.h"
#include "core/error.h"
#include "nn/linear.h"
#include "nn/pooling.h"
#include "quant/report.h"

namespace nabla::hpo::nas {
namespace {

// Note [layer keys]: a layer's latency depends on what it computes and on its input's shape, so
// the key names both: "block residual k3 s2 e1 16->32 @32" is a residual 3x3 block reading
// 16 channels at 32x32 and writing 32 at 16x16. Two networks sharing such a block share its
// entry, whatever else they contain.
std::string block_key(const BlockSpec& b, int64_t resolution) {
  std::ostringstream os;
  os << "block " << name(b.type) << " k" << b.kernel << " s" << b.stride << " e" << b.expansion
     << " " << b.in_channels << "->" << b.out_channels << " @" << resolution;
  return os.str();
}

std::string layer_key(const char* layer, int64_t in, int64_t out, int64_t resolution) {
  std::ostringstream os;
  os << layer << " " << in << "->" << out << " @" << resolution;
  return os.str();
}

// Global average pooling and the Linear layer, as MacroNetwork ends.
class Head : public nn::Module {
 public:
  Head(int64_t channels, int64_t classes) : Module("Head") {
    fc_ = register_module("fc", std::make_shared<nn::Linear>(channels, classes));
  }
  Tensor forward(const Tensor& x) override {
    return (*fc_)(flatten(nn::adaptive_avg_pool2d(x, 1, 1), 1));
  }

 private:
  std::shared_ptr<nn::Linear> fc_;
};

}  // namespace

LatencyTable::LatencyTable(LatencyOptions options) : options_(options) {
  NABLA_CHECK(options.batch >= 1 && options.image_size >= 1, ValueError,
              "nas::LatencyTable: batch and image_size must be >= 1, got ", options.batch, " and ",
              options.image_size);
}

double LatencyTable::entry(const std::string& key,
                           const std::function<std::shared_ptr<nn::Module>()>& make,
                           const Shape& input_shape) {
  if (auto it = entries_.find(key); it != entries_.end()) return it->second;
  Shape one_image = input_shape;
  one_image[0] = 1;
  const double ms = quant::median_latency_ms(*make(), zeros(one_image), input_shape[0],
                                             options_.warmup, options_.runs);
  entries_[key] = ms;
  return ms;
}

double LatencyTable::predict_ms(const MacroArchitecture& a) {
  NABLA_CHECK(!a.stages.empty(), ValueError, "nas::LatencyTable::predict_ms: no stages");
  const int64_t n = options_.batch;
  int64_t resolution = options_.image_size, channels = a.width(0);
  double total = entry(layer_key("stem", options_.in_channels, channels, resolution),
                       [&] {
                         return std::make_shared<ConvBnRelu>(options_.in_channels, channels, 3,
                                                             nn::Conv2dOptions{.padding = 1});
                       },
                       {n, options_.in_channels, resolution, resolution});
  for (const BlockSpec& spec : block_specs(a)) {
    total += entry(block_key(spec, resolution), [&] { return std::make_shared<Block>(spec); },
                   {n, spec.in_channels, resolution, resolution});
    resolution = (resolution - 1) / spec.stride + 1;
    channels = spec.out_channels;
  }
  total += entry(layer_key("head", channels, options_.num_classes, resolution),
                 [&] { return std::make_shared<Head>(channels, options_.num_classes); },
                 {n, channels, resolution, resolution});
  return total;
}

double LatencyTable::measure_ms(const MacroArchitecture& a) const {
  MacroNetwork net(a, {.num_classes = options_.num_classes,
                       .in_channels = options_.in_channels,
                       .image_size = options_.image_size});
  return quant::median_latency_ms(
      net, zeros({1, options_.in_channels, options_.image_size, options_.image_size}),
      options_.batch, options_.warmup, options_.runs);
}

nlohmann::json LatencyTable::to_json() const {
  return {{"batch", options_.batch},
          {"image_size", options_.image_size},
          {"in_channels", options_.in_channels},
          {"num_classes", options_.num_classes},
          {"warmup", options_.warmup},
          {"runs", options_.runs},
          {"entries", entries_}};
}

LatencyTable LatencyTable::from_json(const nlohmann::json& j) {
  try {
    LatencyTable t({.batch = j.at("batch").get<int64_t>(),
                    .image_size = j.at("image_size").get<int64_t>(),
                    .in_channels = j.at("in_channels").get<int64_t>(),
                    .num_classes = j.at("num_classes").get<int64_t>(),
                    .warmup = j.at("warmup").get<int64_t>(),
                    .runs = j.at("runs").get<int64_t>()});
    t.entries_ = j.at("entries").get<std::map<std::string, double>>();
    return t;
  } catch (const nlohmann::json::exception& e) {
    throw ValueError(nabla::detail::concat("nas::LatencyTable::from_json: ", e.what()));
  }
}

}  // namespace nabla::hpo::nas
