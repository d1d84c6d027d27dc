// FakeQuantize: observation, qparams bookkeeping and the switch between the fixed-qparams and
// the learned-step-size (LSQ) fake quantization.
#include "quant/fake_quantize_module.h"

#include <limits>
#include <sstream>

#include "autograd/grad_mode.h"
#include "autograd/ops/views.h"
#include "core/creation.h"
#include "core/ops.h"
#include "quant/fake_quantize.h"

namespace nabla::quant {

namespace {
// Writes `value` into `target` in place; a new shape (a per-channel size learned from the first
// batch) replaces target's data, so that every handle to it, a parameter's included, sees it.
void assign(const Tensor& target, const Tensor& value) {
  if (target.shape() == value.shape())
    core::copy_(target, value);
  else
    core::set_data(target, core::clone(core::to(core::to(value, target.dtype()), target.device())));
}
}  // namespace

FakeQuantize::FakeQuantize(FakeQuantizeOptions options)
    : Module("FakeQuantize"),
      observer_(make_observer(options.observer, options.observer_options)),
      learnable_(options.learnable),
      grad_factor_(options.grad_factor) {
  init();
}

FakeQuantize::FakeQuantize(std::shared_ptr<Observer> observer, bool learnable,
                           std::optional<double> grad_factor)
    : Module("FakeQuantize"),
      observer_(std::move(observer)),
      learnable_(learnable),
      grad_factor_(grad_factor) {
  NABLA_CHECK(observer_ != nullptr, ValueError, "FakeQuantize: the observer is null");
  init();
}

void FakeQuantize::init() {
  register_module("observer", observer_);
  // [C] when the observer knows its channel count, else [1] until the first update_qparams.
  const int64_t size = std::max<int64_t>(observer_->channels(), 1);
  if (learnable_) {
    scale_ = register_parameter("scale", ones({size}));
    // A symmetric scheme's zero point is fixed by the dtype: it stays out of training.
    zero_point_ = register_parameter("zero_point", zeros({size}), !scheme().symmetric());
  } else {
    scale_ = register_buffer("scale", ones({size}));
    zero_point_ = register_buffer("zero_point", zeros({size}, {.dtype = kInt64}));
  }
  if (scheme().symmetric() && scheme().dtype == QDType::uint8) {
    const QScheme& s = scheme();
    core::fill_(zero_point_, static_cast<double>((s.qmin() + s.qmax() + 1) / 2));
  }
  observer_enabled_ = register_buffer("observer_enabled", ones({1}, {.dtype = kUInt8}));
  fake_quant_enabled_ = register_buffer("fake_quant_enabled", ones({1}, {.dtype = kUInt8}));
}

void FakeQuantize::enable_observer(bool on) { core::fill_(observer_enabled_, on ? 1 : 0); }
void FakeQuantize::enable_fake_quant(bool on) { core::fill_(fake_quant_enabled_, on ? 1 : 0); }
bool FakeQuantize::observer_enabled() const { return observer_enabled_.item<int64_t>() != 0; }
bool FakeQuantize::fake_quant_enabled() const { return fake_quant_enabled_.item<int64_t>() != 0; }

void FakeQuantize::update_qparams() {
  QParams p = observer_->qparams();
  NoGradGuard no_grad;
  assign(scale_, p.scale);
  assign(zero_point_, p.zero_point);
}

bool FakeQuantize::resizable(const std::string& name) const {
  return scheme().per_channel() && (name == "scale" || name == "zero_point");
}

QParams FakeQuantize::qparams() const {
  Tensor zp = zero_point_;
  if (learnable_) {
    zp = core::unary(UnaryOp::clamp, core::unary(UnaryOp::round, zero_point_),
                     static_cast<double>(scheme().qmin()), static_cast<double>(scheme().qmax()));
  }
  return {.scale = core::to(core::alias(scale_), kFloat32),
          .zero_point = core::to(core::alias(zp), kInt64),
          .scheme = scheme()};
}

Tensor FakeQuantize::forward(const Tensor& x) {
  if (observer_enabled()) {
    observer_->observe(detach(x));
    update_qparams();
  }
  if (!fake_quant_enabled()) return x;
  if (!learnable_) return fake_quantize(x, qparams());
  {
    // A step may push the learned scale to 0 or below; keep it a valid step size, as PyTorch's
    // learnable fake quantizer does.
    NoGradGuard no_grad;
    core::binary_(BinaryOp::maximum, scale_,
                  static_cast<double>(std::numeric_limits<float>::epsilon()));
  }
  return fake_quantize_learnable(x, scale_, zero_point_, scheme(), grad_factor_);
}

std::string FakeQuantize::extra_repr() const {
  std::ostringstream os;
  os << scheme().to_string() << ", learnable=" << (learnable_ ? "true" : "false")
     << ", observer_enabled=" << (observer_enabled() ? "true" : "false")
     << ", fake_quant_enabled=" << (fake_quant_enabled() ? "true" : "false");
  return os.str();
}

}  // namespace nabla::quant
