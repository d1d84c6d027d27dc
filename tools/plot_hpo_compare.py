#!/usr/bin/env python3
"""Compares tuning methods from hpo_cifar10's output folders (bench/hpo_cifar10_compare.sh).

    tools/plot_hpo_compare.py RUNS --out FOLDER

RUNS holds one folder per study, each with the evaluations.jsonl hpo_cifar10 --out writes (a line
per training run: method, seed, validation accuracy, the study's epochs so far). Writes:
    compare.png   best validation accuracy found against training epochs spent, the median over
                  seeds of each method, with the range of the seeds shaded
    compare.md    the same at a quarter, half and all of the budget, per method, and each seed's
                  final best; with --threshold ACC (a number, or a method: the median of its
                  seeds' final bests), also the epochs each seed took to reach ACC
"""

import argparse
import glob
import json
import os
import statistics
import sys

try:
    import matplotlib
except ImportError:
    sys.exit("plot_hpo_compare.py: needs matplotlib (on Debian: apt-get install python3-matplotlib)")

matplotlib.use("Agg")  # files only: no display is needed or wanted
import matplotlib.pyplot as plt  # noqa: E402 (must follow the backend choice)


def load(runs):
    """{method: {seed: [(epochs_so_far, val_accuracy), ...] in finishing order}}"""
    studies = {}
    paths = sorted(glob.glob(os.path.join(runs, "*", "evaluations.jsonl")))
    if not paths:
        sys.exit(f"plot_hpo_compare.py: no */evaluations.jsonl under {runs}")
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                e = json.loads(line)
                points = studies.setdefault(e["method"], {}).setdefault(e["seed"], [])
                points.append((e["epochs_so_far"], e["val_accuracy"]))
    return studies


def best_at(points, epochs):
    """The best validation accuracy among the runs finished within `epochs` (None before any)."""
    done = [accuracy for spent, accuracy in points if spent <= epochs + 1e-9]
    return max(done) if done else None


def budget_of(studies):
    return max(spent for seeds in studies.values() for pts in seeds.values() for spent, _ in pts)


def plot(studies, out):
    budget = budget_of(studies)
    grid = [budget * i / 200 for i in range(201)]
    figure, axes = plt.subplots(figsize=(7, 4.2))
    for method, seeds in sorted(studies.items()):
        xs, medians, lows, highs = [], [], [], []
        for epochs in grid:
            values = [best_at(points, epochs) for points in seeds.values()]
            if any(v is None for v in values):
                continue  # a seed has no finished run yet
            xs.append(epochs)
            medians.append(statistics.median(values))
            lows.append(min(values))
            highs.append(max(values))
        line, = axes.step(xs, medians, where="post", label=f"{method} ({len(seeds)} seeds)")
        axes.fill_between(xs, lows, highs, step="post", alpha=0.15, color=line.get_color())
    axes.set_xlabel("training epochs spent")
    axes.set_ylabel("best validation accuracy (%)")
    axes.grid(alpha=0.3)
    axes.legend()
    path = os.path.join(out, "compare.png")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    print(path)


def epochs_to_reach(points, threshold):
    """The study's epochs when a run first reached `threshold` (None if none did)."""
    for spent, accuracy in points:
        if accuracy >= threshold:
            return spent
    return None


def threshold_table(studies, threshold):
    lines = [f"Training epochs until a run reached {threshold:.2f}% (– : never):", "",
             "| method | per seed | reached by |", "|---|---|---:|"]
    for method, seeds in sorted(studies.items()):
        reached = [epochs_to_reach(points, threshold) for _, points in sorted(seeds.items())]
        cells = ", ".join("–" if r is None else f"{r:.0f}" for r in reached)
        hits = sum(r is not None for r in reached)
        lines.append(f"| {method} | {cells} | {hits}/{len(reached)} |")
    return "\n".join(lines) + "\n"


def resolve_threshold(studies, threshold):
    if threshold is None:
        return None
    if threshold in studies:
        budget = budget_of(studies)
        return statistics.median(best_at(points, budget) for points in studies[threshold].values())
    try:
        return float(threshold)
    except ValueError:
        sys.exit(f"plot_hpo_compare.py: --threshold {threshold} is neither a number nor a method")


def table(studies, out, threshold):
    budget = budget_of(studies)
    marks = [budget / 4, budget / 2, budget]
    lines = ["| method | seeds | " + " | ".join(f"at {m:.0f} epochs" for m in marks) +
             " | final best per seed |",
             "|---|---:|" + "---:|" * len(marks) + "---|"]
    for method, seeds in sorted(studies.items()):
        cells = []
        for mark in marks:
            values = [best_at(points, mark) for points in seeds.values()]
            cells.append("–" if None in values else f"{statistics.median(values):.2f}")
        finals = ", ".join(f"{best_at(points, budget):.2f}" for _, points in sorted(seeds.items()))
        lines.append(f"| {method} | {len(seeds)} | " + " | ".join(cells) + f" | {finals} |")
    text = ("Best validation accuracy (%) found within a share of the budget, median over "
            "seeds:\n\n" + "\n".join(lines) + "\n")
    if threshold is not None:
        text += "\n" + threshold_table(studies, threshold)
    path = os.path.join(out, "compare.md")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    print(text, end="")
    print(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs")
    parser.add_argument("--out", required=True)
    parser.add_argument("--threshold", help="a validation accuracy, or a method whose seeds' median "
                        "final best it is, to time each seed to")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    studies = load(args.runs)
    plot(studies, args.out)
    table(studies, args.out, resolve_threshold(studies, args.threshold))


if __name__ == "__main__":
    main()
