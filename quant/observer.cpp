// The Observer base: input checks, per-tensor and per-channel batch statistics, the range
// buffers and loading them at any channel count.
#include "quant/observer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>

#include "core/checks.h"
#include "core/ops.h"

namespace nabla::quant {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
}

Observer::Observer(std::string type_name, QScheme scheme, int64_t channels)
    : Module(std::move(type_name)), scheme_(scheme) {
  NABLA_CHECK(channels >= 0, ValueError, this->type_name(), ": channels must be >= 0, got ",
              channels);
  NABLA_CHECK(scheme.per_channel() || channels <= 1, ValueError, this->type_name(),
              ": channels is ", channels, " but scheme ", scheme.to_string(), " is per-tensor");
  // Per-tensor ranges are [1] from the start; per-channel ones [C] once C is known.
  int64_t size = scheme.per_channel() ? channels : 1;
  min_val_ = register_buffer("min_val", full({size}, kInf));
  max_val_ = register_buffer("max_val", full({size}, -kInf));
}

Tensor Observer::forward(const Tensor& x) {
  observe(x);
  return x;
}

std::pair<Tensor, Tensor> Observer::range() const { return {min_val_, max_val_}; }

QParams Observer::qparams() const {
  NABLA_CHECK(has_observed(), ValueError, type_name(),
              "::qparams: no data observed yet (run calibration batches through it first)");
  auto [lo, hi] = range();
  return choose_qparams(lo, hi, scheme_);
}

void Observer::reset() {
  int64_t size = scheme_.per_channel() ? channels() : 1;
  set_range(full({size}, kInf), full({size}, -kInf));
}

bool Observer::has_observed() const {
  if (min_val_.numel() == 0) return false;
  std::vector<float> lo = min_val_.to_vector<float>();
  return std::isfinite(lo[0]);
}

Tensor Observer::checked_input(const Tensor& x, const char* op) const {
  check_defined(x, op);
  NABLA_CHECK(x.dtype() == kFloat32 || x.dtype() == kFloat64, DTypeError, op,
              ": observes float32 or float64 tensors, got ", x.dtype());
  NABLA_CHECK(x.numel() > 0, ShapeError, op, ": tensor ", x.shape(), " is empty");
  if (scheme_.per_channel()) {
    int64_t axis = scheme_.axis_for(x.dim(), op);
    NABLA_CHECK(channels() == 0 || x.size(axis) == channels(), ShapeError, op, ": tensor ",
                x.shape(), " has ", x.size(axis), " channels along axis ", axis,
                " but the observer has seen ", channels());
  }
  return core::to(core::alias(x), kFloat32);
}

std::pair<Tensor, Tensor> Observer::batch_min_max(const Tensor& x) const {
  if (!scheme_.per_channel()) {
    return {core::reshape(core::reduce(ReduceOp::min, x, {}, false), {1}),
            core::reshape(core::reduce(ReduceOp::max, x, {}, false), {1})};
  }
  int64_t axis = scheme_.axis_for(x.dim(), "observe");
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (d != axis) dims.push_back(d);
  if (dims.empty()) return {core::clone(x), core::clone(x)};  // 1-d: each element a channel
  return {core::reduce(ReduceOp::min, x, dims, false), core::reduce(ReduceOp::max, x, dims, false)};
}

Tensor Observer::rows_by_channel(const Tensor& x) const {
  if (!scheme_.per_channel()) return core::contiguous(core::reshape(x, {1, x.numel()}));
  int64_t axis = scheme_.axis_for(x.dim(), "observe");
  Tensor front = core::contiguous(core::transpose(x, 0, axis));  // [C, ...]
  return core::reshape(front, {x.size(axis), x.numel() / x.size(axis)});
}

void Observer::set_range(const Tensor& min, const Tensor& max) {
  if (min_val_.shape() == min.shape()) {
    core::copy_(min_val_, min);
    core::copy_(max_val_, max);
  } else {
    core::set_data(min_val_, core::clone(core::to(min, kFloat32)));
    core::set_data(max_val_, core::clone(core::to(max, kFloat32)));
  }
}

bool Observer::resizable(const std::string& name) const {
  // Each buffer by its own size: resizing min_val first must not lock max_val.
  if (!scheme_.per_channel()) return false;
  if (name == "min_val") return min_val_.numel() == 0;
  if (name == "max_val") return max_val_.numel() == 0;
  return false;
}

void Observer::load_state(const nn::StateDict& state) {
  std::map<std::string, Tensor> given(state.begin(), state.end());
  std::vector<std::string> missing, unexpected;
  nn::StateDict own = state_dict();
  for (const auto& [name, tensor] : own)
    if (!given.count(name)) missing.push_back(name);
  for (const auto& [name, tensor] : given)
    if (std::none_of(own.begin(), own.end(), [&](const auto& e) { return e.first == name; }))
      unexpected.push_back(name);
  auto join = [](const std::vector<std::string>& names) {
    std::ostringstream os;
    for (size_t i = 0; i < names.size(); ++i) os << (i ? ", " : "") << names[i];
    return os.str();
  };
  NABLA_CHECK(missing.empty() && unexpected.empty(), ValueError, type_name(),
              "::load_state: missing [", join(missing), "], unexpected [", join(unexpected), "]");
  for (const auto& [name, tensor] : own) {
    const Tensor& source = given.at(name);
    NABLA_CHECK(source.shape() == tensor.shape() || resizable(name), ShapeError, type_name(),
                "::load_state: ", name, " has shape ", source.shape(), " in the state but ",
                tensor.shape(), " here");
  }
  for (const auto& [name, tensor] : own) {
    const Tensor& source = given.at(name);
    if (source.shape() == tensor.shape())
      core::copy_(tensor, source);
    else
      core::set_data(tensor,
                     core::clone(core::to(core::to(source, tensor.dtype()), tensor.device())));
  }
}

std::string Observer::extra_repr() const {
  std::ostringstream os;
  os << scheme_.to_string();
  return os.str();
}

}  // namespace nabla::quant
