"""Records PyTorch's values for nabla's nn tests: losses, activations, normalization.

Run with Debian's python3-torch (1.13):
    /usr/bin/python3 tests/reference/nn_reference.py > tests/reference/nn_reference.json
The JSON is committed; the C++ tests (tests/nn/test_reference.cpp) read it and need no Python.
Every case is float64. Each records its inputs, the forward values and the gradient of the sum
of the output w.r.t. the input.
"""
import json

import torch
import torch.nn.functional as F

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)


def values(t):
    return t.detach().reshape(-1).tolist()


def record(fn, x, **extra):
    x = x.clone().requires_grad_()
    y = fn(x)
    (grad,) = torch.autograd.grad(y.sum(), x)
    case = {"input": values(x), "input_shape": list(x.shape), "output": values(y),
            "output_shape": list(y.shape), "grad": values(grad)}
    case.update(extra)
    return case


def losses():
    logits = torch.randn(6, 5)
    labels = torch.tensor([1, 0, 4, 2, 3, 2])
    ignored = torch.tensor([1, -100, 4, 2, -100, 0])
    weight = torch.tensor([0.5, 1.0, 2.0, 1.5, 0.25])
    probs = torch.softmax(torch.randn(6, 5), 1)
    target = torch.randn(6, 5)
    binary = torch.rand(6, 5)
    pos_weight = torch.tensor([1.0, 2.0, 0.5, 3.0, 1.0])
    spatial_logits = torch.randn(2, 5, 3)
    spatial_labels = torch.tensor([[1, 3, 0], [4, 2, 2]])
    cases = {}

    def ce(name, tgt, x=logits, **kw):
        cases[name] = record(lambda v: F.cross_entropy(v, tgt, **kw), x, target=values(tgt),
                             target_shape=list(tgt.shape), options={k: (values(v) if torch.is_tensor(v) else v) for k, v in kw.items()})

    ce("cross_entropy", labels)
    ce("cross_entropy_sum", labels, reduction="sum")
    ce("cross_entropy_none", labels, reduction="none")
    ce("cross_entropy_weight", labels, weight=weight)
    ce("cross_entropy_ignore", ignored)
    ce("cross_entropy_smoothing", labels, label_smoothing=0.1)
    ce("cross_entropy_weight_ignore_smoothing", ignored, weight=weight, label_smoothing=0.2)
    ce("cross_entropy_weight_ignore_smoothing_sum", ignored, weight=weight, label_smoothing=0.2,
       reduction="sum")
    ce("cross_entropy_probabilities", probs)
    ce("cross_entropy_probabilities_weight_smoothing", probs, weight=weight, label_smoothing=0.3)
    ce("cross_entropy_spatial", spatial_labels, x=spatial_logits)

    def pointwise(name, fn, tgt, x=logits, **kw):
        cases[name] = record(lambda v: fn(v, tgt, **kw), x, target=values(tgt),
                             target_shape=list(tgt.shape), options={k: (values(v) if torch.is_tensor(v) else v) for k, v in kw.items()})

    log_probs = torch.log_softmax(torch.randn(6, 5), 1)
    pointwise("nll_loss_weight_ignore", F.nll_loss, ignored, x=log_probs, weight=weight)
    pointwise("mse_loss", F.mse_loss, target)
    pointwise("l1_loss_sum", F.l1_loss, target, reduction="sum")
    pointwise("huber_loss", F.huber_loss, target, delta=0.7)
    pointwise("smooth_l1_loss_none", F.smooth_l1_loss, target, beta=0.5, reduction="none")
    pointwise("bce_with_logits", F.binary_cross_entropy_with_logits, binary)
    pointwise("bce_with_logits_pos_weight_weight", F.binary_cross_entropy_with_logits, binary,
              weight=target.abs(), pos_weight=pos_weight)
    pointwise("kl_div_batchmean", F.kl_div, probs, x=log_probs, reduction="batchmean")
    pointwise("kl_div_log_target_sum", F.kl_div, probs.log(), x=log_probs, reduction="sum",
              log_target=True)
    return cases


def activations():
    x = torch.cat([torch.linspace(-25, 25, 21), torch.tensor([-0.3, 0.3, 0.0])])
    fns = {
        "relu": F.relu,
        "leaky_relu": lambda v: F.leaky_relu(v, 0.2),
        "elu": lambda v: F.elu(v, 1.5),
        "gelu": F.gelu,
        "gelu_tanh": lambda v: F.gelu(v, approximate="tanh"),
        "silu": F.silu,
        "mish": F.mish,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "softplus": F.softplus,
        "softplus_beta_threshold": lambda v: F.softplus(v, beta=2.0, threshold=5.0),
    }
    return {name: record(fn, x) for name, fn in fns.items()}


def normalization():
    cases = {}
    for momentum in (0.1, None):
        bn = torch.nn.BatchNorm2d(3, momentum=momentum)
        with torch.no_grad():
            bn.weight.copy_(torch.tensor([1.5, -0.5, 2.0]))
            bn.bias.copy_(torch.tensor([0.1, 0.2, -0.3]))
        batches = [torch.randn(4, 3, 2, 2) * 2 + 1 for _ in range(3)]
        train_outputs = [values(bn(b)) for b in batches]
        bn.eval()
        test = torch.randn(2, 3, 2, 2)
        cases["batchnorm2d_momentum_" + ("none" if momentum is None else str(momentum))] = {
            "weight": values(bn.weight), "bias": values(bn.bias),
            "batches": [values(b) for b in batches], "batch_shape": [4, 3, 2, 2],
            "train_outputs": train_outputs, "running_mean": values(bn.running_mean),
            "running_var": values(bn.running_var),
            "num_batches_tracked": int(bn.num_batches_tracked), "test": values(test),
            "test_shape": [2, 3, 2, 2], "eval_output": values(bn(test))}
    layer = torch.nn.LayerNorm([2, 3])
    group = torch.nn.GroupNorm(2, 4)
    with torch.no_grad():
        for m in (layer, group):
            m.weight.copy_(torch.randn(m.weight.shape))
            m.bias.copy_(torch.randn(m.bias.shape))
    cases["layernorm"] = record(layer, torch.randn(4, 2, 3), weight=values(layer.weight),
                                bias=values(layer.bias))
    cases["groupnorm"] = record(group, torch.randn(2, 4, 3, 2), weight=values(group.weight),
                                bias=values(group.bias))
    cases["adaptive_avg_pool2d"] = record(lambda v: F.adaptive_avg_pool2d(v, (3, 2)),
                                          torch.randn(2, 2, 7, 5))
    return cases


print(json.dumps({"torch_version": torch.__version__, "losses": losses(),
                  "activations": activations(), "normalization": normalization()}, indent=1))
