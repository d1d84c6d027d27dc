#!/usr/bin/env python3
"""The regret table: every sampler on every standard test function (tests/hpo/functions.h) at
one budget over several seeds, as medians, through bench_hpo.

    bench/hpo_regret.py build/bench/bench_hpo --trials 100 --seeds 0-9

Prints a markdown table: the median regret (best value found minus the optimum) per function
and sampler, and per sampler the number of functions on which it beats random search.
"""

import argparse
import json
import statistics
import subprocess

FUNCTIONS = ["branin", "hartmann6", "rosenbrock", "ackley", "levy"]


def seeds_of(text):
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(s) for s in text.split(",")]


def median_regret(binary, sampler, function, trials, seeds):
    out = subprocess.run([binary, "--function", function, "--sampler", sampler, "--trials",
                          str(trials), "--seeds", ",".join(map(str, seeds))],
                         check=True, capture_output=True, text=True).stdout
    return statistics.median(json.loads(line)["regret"] for line in out.splitlines() if line)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bench_hpo", help="the bench_hpo program of a nabla build")
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--seeds", default="0-9", help="a range (0-9) or a list (0,1,2)")
    parser.add_argument("--samplers", default="random,sobol,tpe,gp,cmaes,genetic")
    args = parser.parse_args()
    seeds = seeds_of(args.seeds)
    samplers = args.samplers.split(",")
    table = {s: {f: median_regret(args.bench_hpo, s, f, args.trials, seeds) for f in FUNCTIONS}
             for s in samplers}
    print(f"median regret over seeds {args.seeds}, {args.trials} trials each")
    print("| function | " + " | ".join(samplers) + " |")
    print("|---|" + "---:|" * len(samplers))
    for f in FUNCTIONS:
        print(f"| {f} | " + " | ".join(f"{table[s][f]:.3g}" for s in samplers) + " |")
    if "random" in table:
        wins = [sum(table[s][f] < table["random"][f] for f in FUNCTIONS) for s in samplers]
        print("| beats random on | " + " | ".join(f"{w}/{len(FUNCTIONS)}" for w in wins) + " |")


if __name__ == "__main__":
    main()
