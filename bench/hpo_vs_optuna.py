#!/usr/bin/env python3
"""nabla's TPE against Optuna's (Debian's python3-optuna) on the same test functions, budgets and
seeds, in one run: the median best value reached and the time per trial, with their ratios (above 1: nabla ahead).

    bench/hpo_vs_optuna.py build/bench/bench_hpo --trials 100,1000 --seeds 0,1,2,3,4

The functions are tests/hpo/functions.h's, written again here term for term (Branin on [0, 1]^2
rescaled, Hartmann-6 on [0, 1]^6, Rosenbrock on [-2, 2]^2, Ackley on [-5, 5]^2, Levy on
[-10, 10]^2). Both sides run the whole study in one thread; the functions cost next to nothing,
so the time is the sampler's and the study's own.
"""

import argparse
import json
import math
import statistics
import subprocess
import sys
import time

try:
    import optuna
except ImportError:
    sys.exit("hpo_vs_optuna.py: needs Optuna (on Debian: apt-get install python3-optuna)")


def branin(x):
    a, b = 15 * x[0] - 5, 15 * x[1]
    t = b - 5.1 / (4 * math.pi ** 2) * a * a + 5 / math.pi * a - 6
    return t * t + 10 * (1 - 1 / (8 * math.pi)) * math.cos(a) + 10


HARTMANN_ALPHA = [1.0, 1.2, 3.0, 3.2]
HARTMANN_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8],
              [17, 8, 0.05, 10, 0.1, 14]]
HARTMANN_P = [[0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
              [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
              [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
              [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381]]


def hartmann6(x):
    return -sum(a * math.exp(-sum(A[j] * (x[j] - P[j]) ** 2 for j in range(6)))
                for a, A, P in zip(HARTMANN_ALPHA, HARTMANN_A, HARTMANN_P))


def rosenbrock(x):
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1))


def ackley(x):
    n = len(x)
    return (-20 * math.exp(-0.2 * math.sqrt(sum(v * v for v in x) / n))
            - math.exp(sum(math.cos(2 * math.pi * v) for v in x) / n) + 20 + math.e)


def levy(x):
    w = [1 + (v - 1) / 4 for v in x]
    total = math.sin(math.pi * w[0]) ** 2
    for wi in w[:-1]:
        total += (wi - 1) ** 2 * (1 + 10 * math.sin(math.pi * wi + 1) ** 2)
    return total + (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)


# name: (function, dimensions, low, high, optimum), as in tests/hpo/functions.h
FUNCTIONS = {
    "branin": (branin, 2, 0, 1, 0.397887357729738),
    "hartmann6": (hartmann6, 6, 0, 1, -3.32236801141551),
    "rosenbrock": (rosenbrock, 2, -2, 2, 0.0),
    "ackley": (ackley, 2, -5, 5, 0.0),
    "levy": (levy, 2, -10, 10, 0.0),
}


def optuna_run(name, trials, seed):
    f, dims, low, high, optimum = FUNCTIONS[name]

    def objective(trial):
        return f([trial.suggest_float(f"x{i}", low, high) for i in range(dims)])

    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    start = time.perf_counter()
    study.optimize(objective, n_trials=trials)
    return study.best_value - optimum, (time.perf_counter() - start) / trials


def nabla_runs(binary, name, trials, seeds):
    out = subprocess.run([binary, "--function", name, "--sampler", "tpe", "--trials", str(trials),
                          "--seeds", ",".join(map(str, seeds))],
                         check=True, capture_output=True, text=True).stdout
    records = [json.loads(line) for line in out.splitlines() if line.strip()]
    return [(r["regret"], r["seconds_per_trial"]) for r in records]


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bench_hpo", help="the bench_hpo program of a nabla build")
    parser.add_argument("--trials", default="100,1000", help="budgets, comma-separated")
    parser.add_argument("--seeds", default="0,1,2,3,4", help="seeds, comma-separated")
    parser.add_argument("--functions", default=",".join(FUNCTIONS))
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"Optuna {optuna.__version__}; seeds {seeds}; medians over seeds")
    print("| function | trials | nabla regret | Optuna regret | Optuna regret / nabla regret | "
          "nabla ms/trial | Optuna ms/trial | Optuna time / nabla time |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for trials in [int(t) for t in args.trials.split(",")]:
        for name in args.functions.split(","):
            ours = nabla_runs(args.bench_hpo, name, trials, seeds)
            theirs = [optuna_run(name, trials, seed) for seed in seeds]
            our_regret = statistics.median(r for r, _ in ours)
            their_regret = statistics.median(r for r, _ in theirs)
            our_time = statistics.median(t for _, t in ours)
            their_time = statistics.median(t for _, t in theirs)
            ratio = their_regret / our_regret if our_regret > 0 else math.inf
            print(f"| {name} | {trials} | {our_regret:.4g} | {their_regret:.4g} | {ratio:.2f} | "
                  f"{1e3 * our_time:.3f} | {1e3 * their_time:.3f} | "
                  f"{their_time / our_time:.1f} |", flush=True)


if __name__ == "__main__":
    main()
