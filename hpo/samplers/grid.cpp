// Grid search: the grid's points, their seeded order, and the claims trials make on them.
#include "hpo/samplers/grid.h"

#include <numeric>
#include <set>

#include "core/error.h"
#include "hpo/storage.h"

namespace nabla::hpo {

namespace {

constexpr const char* kGridKey = "grid_id";
constexpr int64_t kMaxPoints = 1'000'000;

std::optional<int64_t> grid_id_of(const FrozenTrial& t) {
  auto it = t.system_attrs.find(kGridKey);
  if (it == t.system_attrs.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

std::string names_of(const std::map<std::string, std::vector<ParamValue>>& grid) {
  std::string names;
  for (const auto& [name, values] : grid) names += (names.empty() ? "" : ", ") + name;
  return names;
}

}  // namespace

GridSampler::GridSampler(std::map<std::string, std::vector<ParamValue>> grid,
                         std::optional<uint64_t> seed)
    : Sampler(seed), grid_(std::move(grid)) {
  NABLA_CHECK(!grid_.empty(), ValueError, "GridSampler: the grid has no parameters");
  int64_t size = 1;
  for (const auto& [param, values] : grid_) {
    NABLA_CHECK(!values.empty(), ValueError, "GridSampler: parameter '", param, "' has no values");
    for (size_t i = 0; i < values.size(); ++i)
      for (size_t j = i + 1; j < values.size(); ++j)
        NABLA_CHECK(values[i] != values[j], ValueError, "GridSampler: parameter '", param,
                    "' lists the value ", to_string(values[i]), " twice");
    const auto count = static_cast<int64_t>(values.size());
    NABLA_CHECK(size <= kMaxPoints / count, ValueError, "GridSampler: the grid has more than ",
                kMaxPoints, " points (", size, " x ", count, " at '", param, "')");
    strides_[param] = size;
    size *= count;
  }
  order_.resize(static_cast<size_t>(size));
  std::iota(order_.begin(), order_.end(), 0);
  Rng rng = Rng::keyed(this->seed(), 0, "grid order");
  for (int64_t i = size - 1; i > 0; --i)
    std::swap(order_[static_cast<size_t>(i)], order_[static_cast<size_t>(rng.integer(i + 1))]);
}

const ParamValue& GridSampler::value_of(int64_t grid_index, const std::string& param) const {
  const auto& values = grid_.at(param);
  return values[static_cast<size_t>(grid_index / strides_.at(param) %
                                    static_cast<int64_t>(values.size()))];
}

std::map<std::string, ParamValue> GridSampler::point(int64_t grid_index) const {
  NABLA_CHECK(grid_index >= 0 && grid_index < size(), ValueError, "GridSampler::point: index ",
              grid_index, " is outside the grid's ", size(), " points");
  std::map<std::string, ParamValue> out;
  for (const auto& [param, values] : grid_) out[param] = value_of(grid_index, param);
  return out;
}

std::optional<int64_t> GridSampler::claim(const SamplerContext& ctx) {
  std::lock_guard lock(mutex_);
  Storage& storage = ctx.storage;
  if (auto held = grid_id_of(*storage.trial(ctx.trial.id))) return held;
  auto taken_by_others = [&] {
    std::multiset<int64_t> taken;
    for (const auto& t : storage.trials(ctx.study_id))
      if (t->id != ctx.trial.id)
        if (auto id = grid_id_of(*t)) taken.insert(*id);
    return taken;
  };
  constexpr int kAttempts = 8;
  std::optional<int64_t> choice;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    const auto taken = taken_by_others();
    choice.reset();
    const int64_t preferred = order_[static_cast<size_t>(ctx.trial.number % size())];
    if (!taken.contains(preferred)) {
      choice = preferred;
    } else {
      for (int64_t index : order_)
        if (!taken.contains(index)) {
          choice = index;
          break;
        }
    }
    if (!choice) return std::nullopt;
    storage.set_trial_system_attr(ctx.trial.id, kGridKey, *choice);
    if (!taken_by_others().contains(*choice)) return choice;
  }
  return choice;
}

double GridSampler::sample_independent(const SamplerContext& ctx, const std::string& param,
                                       const Distribution& d) {
  NABLA_CHECK(grid_.contains(param), ValueError, "GridSampler::sample_independent: trial ",
              ctx.trial.number, " asks for '", param, "', which is not in the grid (",
              names_of(grid_), ")");
  const auto index = claim(ctx);
  NABLA_CHECK(index, ValueError, "GridSampler::sample_independent: all ", size(),
              " grid points are taken, none is left for trial ", ctx.trial.number);
  const ParamValue& value = value_of(*index, param);
  const auto internal = to_internal(d, value);
  NABLA_CHECK(internal, ValueError, "GridSampler::sample_independent: the grid value '", param,
              "' = ", to_string(value), " is outside the objective's distribution ",
              to_json(d).dump());
  return *internal;
}

bool GridSampler::exhausted(std::span<const TrialPtr> trials) {
  std::set<int64_t> claimed;
  int64_t to_come = 0;
  for (const auto& t : trials) {
    if (auto id = grid_id_of(*t))
      claimed.insert(*id);
    else if (t->state == TrialState::running)
      ++to_come;
  }
  return static_cast<int64_t>(claimed.size()) + to_come >= size();
}

}  // namespace nabla::hpo
