"""Records 20-step trajectories of PyTorch 1.13's optimizers on a fixed problem, for
tests/optim/test_reference.cpp.

Run with Debian's python3-torch (PyTorch 1.13):
    /usr/bin/python3 tests/reference/optimizers.py
It rewrites optimizers.json beside this script; the fixture is committed, so the C++ tests never
need torch.

The problem, in float64: parameters w [3, 2], b [2] and v [4] and
    loss = mean((X @ w + b - Y)^2) + 0.25 * sum(v^4) + 0.1 * sum(v) * sum(w)
with X [5, 3] and Y [5, 2] fixed. Each case runs `steps` steps of zero_grad, loss, backward,
step, and records every parameter after each step.

One deliberate difference: torch 1.13's NAdam computes the product of momenta for the next step
as mu_product * mu * mu_next, counting mu twice; PyTorch 2.0 fixed it (pytorch/pytorch#92699) to
mu_product * mu_next, which is the paper's formula and nabla's. The NAdam case runs 1.13's own
function with that one line replaced.
"""

import inspect
import json
import os
import textwrap

import sys

import torch
import torch.optim.nadam  # noqa: F401 (registers the module for NADAM below)

# torch.optim's __init__ deletes its submodule attributes; the module object is still here.
NADAM = sys.modules["torch.optim.nadam"]
torch.set_default_dtype(torch.float64)
STEPS = 20

X = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.5], [-0.75, 1.0, 0.3], [0.2, -0.4, 1.1], [1.0, 0.8, -1.2]]
Y = [[1.0, -0.5], [0.3, 0.7], [-1.2, 0.4], [0.6, 0.1], [-0.3, 1.5]]
INIT = {
    "w": [[0.3, -0.2], [0.1, 0.4], [-0.5, 0.25]],
    "b": [0.05, -0.1],
    "v": [1.2, -0.7, 0.4, -1.5],
}


def loss_of(p, x, y):
    return (((x @ p["w"] + p["b"] - y) ** 2).mean() + 0.25 * (p["v"] ** 4).sum()
            + 0.1 * p["v"].sum() * p["w"].sum())


def fixed_nadam():
    """torch 1.13's _single_tensor_nadam with the product of momenta corrected."""
    source = textwrap.dedent(inspect.getsource(NADAM._single_tensor_nadam))
    wrong = "mu_product_next = mu_product * mu * mu_next"
    assert wrong in source, "this torch's NAdam differs from 1.13's; check the fix still applies"
    namespace = dict(vars(NADAM))
    exec(source.replace(wrong, "mu_product_next = mu_product * mu_next"), namespace)
    return namespace["_single_tensor_nadam"]


# (fixture name, torch class, torch options, nabla name, nabla options, groups)
# groups: None for one group, else a list of (parameter names, torch options, nabla options).
CASES = [
    ("sgd", torch.optim.SGD, {"lr": 0.05}, "sgd", {"lr": 0.05}, None),
    ("sgd_momentum", torch.optim.SGD, {"lr": 0.05, "momentum": 0.9}, "sgd",
     {"lr": 0.05, "momentum": 0.9}, None),
    ("sgd_dampening_decay", torch.optim.SGD,
     {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01}, "sgd",
     {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01}, None),
    ("sgd_nesterov", torch.optim.SGD,
     {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}, "sgd",
     {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}, None),
    ("adagrad", torch.optim.Adagrad,
     {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.01, "initial_accumulator_value": 0.1},
     "adagrad",
     {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.01, "initial_accumulator_value": 0.1}, None),
    ("rmsprop", torch.optim.RMSprop, {"lr": 0.01}, "rmsprop", {"lr": 0.01}, None),
    ("rmsprop_centered_momentum", torch.optim.RMSprop,
     {"lr": 0.01, "alpha": 0.9, "momentum": 0.9, "centered": True, "weight_decay": 0.01},
     "rmsprop",
     {"lr": 0.01, "alpha": 0.9, "momentum": 0.9, "centered": True, "weight_decay": 0.01}, None),
    ("adadelta", torch.optim.Adadelta, {"lr": 1.0, "rho": 0.9, "weight_decay": 0.01}, "adadelta",
     {"lr": 1.0, "rho": 0.9, "weight_decay": 0.01}, None),
    ("adam", torch.optim.Adam, {"lr": 0.01}, "adam", {"lr": 0.01}, None),
    ("adam_amsgrad_decay", torch.optim.Adam,
     {"lr": 0.01, "betas": (0.8, 0.99), "amsgrad": True, "weight_decay": 0.01}, "adam",
     {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "amsgrad": True, "weight_decay": 0.01}, None),
    ("adamw", torch.optim.AdamW, {"lr": 0.01, "weight_decay": 0.1}, "adamw",
     {"lr": 0.01, "weight_decay": 0.1}, None),
    ("adamw_amsgrad", torch.optim.AdamW, {"lr": 0.01, "amsgrad": True}, "adamw",
     {"lr": 0.01, "amsgrad": True}, None),
    ("adamax", torch.optim.Adamax, {"lr": 0.02, "weight_decay": 0.01}, "adamax",
     {"lr": 0.02, "weight_decay": 0.01}, None),
    ("nadam", torch.optim.NAdam, {"lr": 0.01, "weight_decay": 0.01}, "nadam",
     {"lr": 0.01, "weight_decay": 0.01}, None),
    ("radam", torch.optim.RAdam, {"lr": 0.01, "weight_decay": 0.01}, "radam",
     {"lr": 0.01, "weight_decay": 0.01}, None),
    ("adam_groups", torch.optim.Adam, {"lr": 0.01}, "adam", {"lr": 0.01},
     [(["w"], {"lr": 0.03}, {"lr": 0.03}),
      (["b", "v"], {"betas": (0.5, 0.9)}, {"beta1": 0.5, "beta2": 0.9})]),
]


def run(cls, options, groups):
    x, y = torch.tensor(X), torch.tensor(Y)
    p = {name: torch.tensor(value, requires_grad=True) for name, value in INIT.items()}
    if groups is None:
        optimizer = cls(list(p.values()), foreach=False, **options)
    else:
        optimizer = cls([dict(params=[p[n] for n in names], **extra)
                         for names, extra, _ in groups], foreach=False, **options)
    trajectory = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss_of(p, x, y).backward()
        optimizer.step()
        trajectory.append({name: t.detach().flatten().tolist() for name, t in p.items()})
    return trajectory


def main():
    NADAM._single_tensor_nadam = fixed_nadam()
    cases = []
    for name, cls, torch_options, ours, our_options, groups in CASES:
        cases.append({
            "name": name,
            "optimizer": ours,
            "options": our_options,
            "groups": None if groups is None else
            [{"params": names, "options": extra} for names, _, extra in groups],
            "trajectory": run(cls, torch_options, groups),
        })
    fixture = {
        "torch": torch.__version__,
        "steps": STEPS,
        "X": X,
        "Y": Y,
        "init": {name: {"shape": list(torch.tensor(v).shape), "values": torch.tensor(v).flatten().tolist()}
                 for name, v in INIT.items()},
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optimizers.json")
    with open(path, "w") as f:
        json.dump(fixture, f)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {path}")


if __name__ == "__main__":
    main()
