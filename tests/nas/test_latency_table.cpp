// The latency table's bookkeeping: a network's prediction is the sum of its layers' entries, each
// layer timed once and shared between networks, and a saved table predicts without timing. How
// close the predictions come to whole networks timed end to end is a benchmark's question
// (bench/bench_nas_latency.cpp), not a test's: tests never assert wall time.
#include <doctest/doctest.h>

#include <cmath>

#include "core/creation.h"
#include "hpo/nas/latency_table.h"

using namespace nabla;
using namespace nabla::hpo::nas;

namespace {

MacroArchitecture two_stages(BlockType second) {
  return {.base_width = 8,
          .stages = {{.blocks = 2, .kernel = 3, .type = BlockType::residual},
                     {.blocks = 1, .kernel = 5, .type = second, .expansion = 2}}};
}

}  // namespace

TEST_CASE("nas latency table: layers timed once, shared, summed, saved and reloaded") {
  LatencyTable table({.batch = 2, .image_size = 16, .warmup = 0, .runs = 3});
  const MacroArchitecture a = two_stages(BlockType::inverted_bottleneck);
  const double predicted = table.predict_ms(a);
  // stem, two residual blocks (8->8 at 16, both the same layer), the second stage's block, head.
  CHECK(table.entries() == 4);
  CHECK(std::isfinite(predicted));
  CHECK(predicted > 0);
  CHECK(table.predict_ms(a) == predicted);  // nothing timed again
  CHECK(table.entries() == 4);
  const nlohmann::json saved = table.to_json();
  double sum = 0;
  for (const auto& [key, ms] : saved.at("entries").items()) sum += ms.get<double>();
  // The residual entry counts twice in the network.
  CHECK(predicted ==
        doctest::Approx(sum +
                        saved.at("entries").at("block residual k3 s1 e1 8->8 @16").get<double>()));

  // Another network with the same first stage times only its new block.
  table.predict_ms(two_stages(BlockType::dilated));
  CHECK(table.entries() == 5);

  LatencyTable reloaded = LatencyTable::from_json(saved);
  CHECK(reloaded.predict_ms(a) == predicted);
  CHECK(reloaded.entries() == 4);
  CHECK(table.measure_ms(a) > 0);

  CHECK_THROWS_AS(LatencyTable::from_json({{"batch", 1}}), ValueError);
  CHECK_THROWS_AS(LatencyTable({.batch = 0}), ValueError);
}
