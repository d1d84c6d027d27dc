"""Records trajectories of PyTorch 1.13's torch.optim.LBFGS, without a line search and with
line_search_fn="strong_wolfe", for tests/optim/test_lbfgs_reference.cpp.

Run with Debian's python3-torch (PyTorch 1.13):
    /usr/bin/python3 tests/reference/lbfgs.py
It rewrites lbfgs.json beside this script; the fixture is committed, so the C++ tests never need
torch.

The problem is optimizers.py's, in float64: parameters w [3, 2], b [2] and v [4] and
    loss = mean((X @ w + b - Y)^2) + 0.25 * sum(v^4) + 0.1 * sum(v) * sum(w).
Each case runs `steps` calls of step(closure), the closure computing the loss and its gradients,
and records the loss step() returned and every parameter after each step. nabla's option
line_search is PyTorch's line_search_fn ("none" for None).
"""

import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from optimizers import INIT, X, Y, loss_of  # noqa: E402  (sets the default dtype to float64)

# (fixture name, steps, torch options); nabla's options are the same but for line_search.
CASES = [
    ("fixed_step", 8, {"lr": 0.5, "max_iter": 4, "history_size": 3}),
    ("strong_wolfe", 6, {"lr": 1.0, "max_iter": 4, "history_size": 3,
                         "line_search_fn": "strong_wolfe"}),
    ("strong_wolfe_defaults", 2, {"line_search_fn": "strong_wolfe"}),
]


def run(steps, options):
    x, y = torch.tensor(X), torch.tensor(Y)
    p = {name: torch.tensor(value, requires_grad=True) for name, value in INIT.items()}
    optimizer = torch.optim.LBFGS(list(p.values()), **options)

    def closure():
        optimizer.zero_grad()
        loss = loss_of(p, x, y)
        loss.backward()
        return loss

    trajectory = []
    for _ in range(steps):
        loss = optimizer.step(closure)
        record = {name: t.detach().flatten().tolist() for name, t in p.items()}
        record["loss"] = float(loss)
        trajectory.append(record)
    return trajectory


def main():
    cases = []
    for name, steps, options in CASES:
        ours = {k: v for k, v in options.items() if k != "line_search_fn"}
        ours["line_search"] = options.get("line_search_fn") or "none"
        cases.append({"name": name, "options": ours, "trajectory": run(steps, options)})
    fixture = {
        "torch": torch.__version__,
        "X": X,
        "Y": Y,
        "init": {name: {"shape": list(torch.tensor(v).shape),
                        "values": torch.tensor(v).flatten().tolist()}
                 for name, v in INIT.items()},
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lbfgs.json")
    with open(path, "w") as f:
        json.dump(fixture, f)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {path}")


if __name__ == "__main__":
    main()
