// Datasets: TensorDataset views and gathers, the default get_batch, Subset, random_split.
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>

#include "core/creation.h"
#include "data/dataset.h"
#include "testing.h"

using namespace nabla;
using namespace nabla::data;

namespace {

// inputs [n, 2] with row i = (i, 10 i); targets [n] = i.
std::shared_ptr<TensorDataset> counting(int64_t n) {
  std::vector<float> inputs;
  std::vector<int64_t> targets;
  for (int64_t i = 0; i < n; ++i) {
    inputs.push_back(static_cast<float>(i));
    inputs.push_back(static_cast<float>(10 * i));
    targets.push_back(i);
  }
  return std::make_shared<TensorDataset>(from_vector(inputs, {n, 2}), from_vector(targets));
}

// Only get(): exercises Dataset's default get_batch.
class SquaresDataset : public Dataset {
 public:
  int64_t size() const override { return 5; }
  Example get(int64_t index) const override {
    check_index(index, "SquaresDataset::get");
    return {full({2}, static_cast<double>(index * index)),
            scalar_tensor(static_cast<double>(index), {.dtype = kInt64})};
  }
};

std::vector<int64_t> sorted(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

TEST_CASE("TensorDataset: get gives views of a row, get_batch gathers rows in order") {
  auto ds = counting(6);
  CHECK(ds->size() == 6);
  Example e = ds->get(4);
  CHECK(e.input.shape() == Shape{2});
  CHECK(e.target.dim() == 0);
  testing::check_close(e.input, {4, 40});
  CHECK(e.target.item<int64_t>() == 4);
  Batch b = ds->get_batch({5, 0, 3});
  CHECK(b.size() == 3);
  CHECK(b.inputs.shape() == Shape{3, 2});
  testing::check_close(b.inputs, {5, 50, 0, 0, 3, 30});
  CHECK(b.targets.to_vector<int64_t>() == std::vector<int64_t>{5, 0, 3});
  CHECK_THROWS_WITH_AS(ds->get(6), doctest::Contains("index 6 is out of range"), IndexError);
  CHECK_THROWS_AS(ds->get_batch({1, -1}), IndexError);
  CHECK_THROWS_AS(TensorDataset(zeros({3, 2}), zeros({4})), ShapeError);
}

TEST_CASE("the default get_batch stacks get, and refuses examples of different shapes") {
  SquaresDataset ds;
  Batch b = ds.get_batch({3, 1});
  CHECK(b.inputs.shape() == Shape{2, 2});
  testing::check_close(b.inputs, {9, 9, 1, 1});
  CHECK(b.targets.dtype() == kInt64);
  CHECK(b.targets.to_vector<int64_t>() == std::vector<int64_t>{3, 1});
  CHECK_THROWS_WITH_AS(stack_examples({zeros({2}), zeros({3})}, "test"),
                       doctest::Contains("example 1 is [3]"), ShapeError);
}

TEST_CASE("Subset maps indices, for get and get_batch, and checks them") {
  auto ds = counting(10);
  auto sub = std::make_shared<Subset>(ds, std::vector<int64_t>{7, 2, 9});
  CHECK(sub->size() == 3);
  CHECK(sub->get(1).target.item<int64_t>() == 2);
  CHECK(sub->get_batch({2, 0}).targets.to_vector<int64_t>() == std::vector<int64_t>{9, 7});
  Subset nested(sub, {2});
  CHECK(nested.get(0).target.item<int64_t>() == 9);
  CHECK_THROWS_AS(Subset(ds, {10}), IndexError);
  CHECK_THROWS_AS(sub->get(3), IndexError);
}

TEST_CASE("random_split: a seeded partition of the indices") {
  auto ds = counting(100);
  auto parts = random_split(ds, {70, 20, 10}, 7);
  REQUIRE(parts.size() == 3);
  CHECK(parts[0]->size() == 70);
  CHECK(parts[1]->size() == 20);
  CHECK(parts[2]->size() == 10);
  std::vector<int64_t> all;
  for (auto& p : parts) all.insert(all.end(), p->indices().begin(), p->indices().end());
  std::vector<int64_t> expected(100);
  std::iota(expected.begin(), expected.end(), 0);
  CHECK(sorted(all) == expected);
  CHECK(all != expected);  // shuffled
  CHECK(random_split(ds, {70, 20, 10}, 7)[1]->indices() == parts[1]->indices());
  CHECK(random_split(ds, {70, 20, 10}, 8)[1]->indices() != parts[1]->indices());
  CHECK_THROWS_WITH_AS(random_split(ds, {50, 40}, 0), doctest::Contains("add up to 90"),
                       ValueError);
}

TEST_CASE("random_split_fractions: floors, then the remainder to the first parts") {
  auto ds = counting(10);
  auto parts = random_split_fractions(ds, {0.25, 0.25, 0.5}, 1);
  // floor gives 2, 2, 5; the one left over goes to the first part.
  CHECK(parts[0]->size() == 3);
  CHECK(parts[1]->size() == 2);
  CHECK(parts[2]->size() == 5);
  CHECK_THROWS_AS(random_split_fractions(ds, {0.5, 0.6}, 1), ValueError);
}

TEST_CASE("LabeledImages: class counts and a dataset over the same memory") {
  LabeledImages li{
      zeros({4, 1, 2, 2}, {.dtype = kUInt8}), from_vector<int64_t>({1, 0, 1, 1}), {"a", "b"}};
  CHECK(li.size() == 4);
  CHECK(li.class_counts() == std::vector<int64_t>{1, 3});
  auto ds = li.dataset();
  CHECK(ds->inputs().raw_data() == li.images.raw_data());
  CHECK(ds->get(2).target.item<int64_t>() == 1);
}
