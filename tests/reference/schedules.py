"""Records 100 steps of PyTorch 1.13's learning-rate schedules, for
tests/optim/test_schedules.cpp.

Run with Debian's python3-torch (PyTorch 1.13):
    /usr/bin/python3 tests/reference/schedules.py
It rewrites schedules.json beside this script; the fixture is committed, so the C++ tests never
need torch.

Each case builds an optimizer over one parameter, the schedule, and records the learning rate
(and the momentum or beta1 for the cyclic schedules) after construction and after each of 100
steps: 101 values. The plateau cases feed a fixed metric sequence, recorded too.
"""

import json
import math
import os

import torch
from torch.optim import lr_scheduler as S

torch.set_default_dtype(torch.float64)
STEPS = 100
BASE_LR = 0.1


def plateau_metric(t):
    # Falls, then flattens with a small wobble, then falls again: reductions and cooldowns.
    value = max(0.5, 1.0 - 0.04 * t) + 0.01 * math.sin(t)
    return value - 0.2 if t > 60 else value


def max_metric(t):
    return min(0.9, 0.3 + 0.02 * t) + 0.005 * math.cos(3 * t)


# (name, nabla schedule, nabla options, torch optimizer, its options, the momentum option
#  recorded or None, a function making the torch schedule, a metric function or None)
CASES = [
    ("step", "step", {"step_size": 7, "gamma": 0.5}, "sgd", {}, None,
     lambda o: S.StepLR(o, step_size=7, gamma=0.5), None),
    ("multistep", "multistep", {"milestones": [10, 40, 40, 70], "gamma": 0.3}, "sgd", {}, None,
     lambda o: S.MultiStepLR(o, milestones=[10, 40, 40, 70], gamma=0.3), None),
    ("exponential", "exponential", {"gamma": 0.95}, "sgd", {}, None,
     lambda o: S.ExponentialLR(o, gamma=0.95), None),
    ("polynomial", "polynomial", {"total_iters": 40, "power": 2.0}, "sgd", {}, None,
     lambda o: S.PolynomialLR(o, total_iters=40, power=2.0), None),
    ("cosine", "cosine", {"t_max": 30, "eta_min": 0.001}, "sgd", {}, None,
     lambda o: S.CosineAnnealingLR(o, T_max=30, eta_min=0.001), None),
    ("cosine_restarts", "cosine_restarts", {"t_0": 10, "t_mult": 1, "eta_min": 0.0}, "sgd", {},
     None, lambda o: S.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=1, eta_min=0.0), None),
    ("cosine_restarts_mult", "cosine_restarts", {"t_0": 5, "t_mult": 2, "eta_min": 0.0001}, "sgd",
     {}, None, lambda o: S.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=0.0001), None),
    ("cyclic_triangular", "cyclic", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 10}, "sgd",
     {"momentum": 0.9}, "momentum",
     lambda o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=10), None),
    ("cyclic_triangular2", "cyclic",
     {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 5, "step_size_down": 15,
      "mode": "triangular2"}, "sgd", {"momentum": 0.9}, "momentum",
     lambda o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=5, step_size_down=15,
                          mode="triangular2"), None),
    ("cyclic_exp_range", "cyclic",
     {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 8, "mode": "exp_range", "gamma": 0.99,
      "cycle_momentum": False}, "sgd", {}, None,
     lambda o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=8, mode="exp_range",
                          gamma=0.99, cycle_momentum=False), None),
    ("one_cycle", "one_cycle", {"max_lr": 0.5, "total_steps": 101}, "sgd", {"momentum": 0.9},
     "momentum", lambda o: S.OneCycleLR(o, max_lr=0.5, total_steps=101), None),
    ("one_cycle_three_phase_adam", "one_cycle",
     {"max_lr": 0.01, "total_steps": 101, "pct_start": 0.25, "anneal_strategy": "linear",
      "three_phase": True}, "adam", {}, "beta1",
     lambda o: S.OneCycleLR(o, max_lr=0.01, total_steps=101, pct_start=0.25,
                            anneal_strategy="linear", three_phase=True), None),
    ("warmup_cosine", "cosine",
     {"t_max": 90, "eta_min": 0.0, "warmup_steps": 10, "warmup_start_factor": 0.1}, "sgd", {},
     None,
     lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=10),
                                  S.CosineAnnealingLR(o, T_max=90, eta_min=0.0)],
                              milestones=[10]), None),
    ("plateau_min", "plateau",
     {"mode": "min", "factor": 0.5, "patience": 3, "threshold": 0.01, "cooldown": 2,
      "min_lr": 0.002}, "sgd", {}, None,
     lambda o: S.ReduceLROnPlateau(o, mode="min", factor=0.5, patience=3, threshold=0.01,
                                   cooldown=2, min_lr=0.002), plateau_metric),
    ("plateau_max_abs", "plateau",
     {"mode": "max", "factor": 0.2, "patience": 5, "threshold": 0.01, "threshold_mode": "abs"},
     "sgd", {}, None,
     lambda o: S.ReduceLROnPlateau(o, mode="max", factor=0.2, patience=5, threshold=0.01,
                                   threshold_mode="abs"), max_metric),
]


def momentum_of(optimizer, option):
    group = optimizer.param_groups[0]
    return group["betas"][0] if option == "beta1" else group["momentum"]


def main():
    cases = []
    for name, ours, options, opt_name, opt_options, momentum, make, metric in CASES:
        p = torch.zeros(2, requires_grad=True)
        cls = torch.optim.SGD if opt_name == "sgd" else torch.optim.Adam
        optimizer = cls([p], lr=BASE_LR, **opt_options)
        schedule = make(optimizer)
        lrs = [optimizer.param_groups[0]["lr"]]
        momenta = [momentum_of(optimizer, momentum)] if momentum else []
        metrics = []
        for t in range(1, STEPS + 1):
            optimizer.step()
            if metric:
                metrics.append(metric(t))
                schedule.step(metrics[-1])
            else:
                schedule.step()
            lrs.append(optimizer.param_groups[0]["lr"])
            if momentum:
                momenta.append(momentum_of(optimizer, momentum))
        case = {"name": name, "schedule": ours, "options": options, "optimizer": opt_name,
                "optimizer_options": dict(lr=BASE_LR, **opt_options), "lr": lrs}
        if momentum:
            case["momentum_option"] = momentum
            case["momentum"] = momenta
        if metric:
            case["metrics"] = metrics
        cases.append(case)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schedules.json")
    with open(path, "w") as f:
        json.dump({"torch": torch.__version__, "steps": STEPS, "cases": cases}, f)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {path}")


if __name__ == "__main__":
    main()
