#!/usr/bin/env python3
"""Draws a hyperparameter study (nabla-hpo export --format json) as PNG files.

    tools/plot_study.py trials.json --out plots

Writes into the --out folder:
    history.png     each complete trial's value by trial number, and the best so far
    parallel.png    parallel coordinates: one line per complete trial across its parameters
                    (log-scaled ones in log space, choices by index), coloured by its value
    importance.png  how much of the value's variance each parameter explains alone (see
                    main_effect_share), a quick first-order reading, not a full fANOVA
    pareto.png      for several objectives: every complete trial and the Pareto front (the
                    first objective against each other one)
"""

import argparse
import json
import math
import os
import sys

try:
    import matplotlib
except ImportError:
    sys.exit("plot_study.py: needs matplotlib (on Debian: apt-get install python3-matplotlib)")

matplotlib.use("Agg")  # files only: no display is needed or wanted
import matplotlib.pyplot as plt  # noqa: E402 (must follow the backend choice)


class StudyError(Exception):
    """A file that is not a study export: the message says what is wrong."""


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            study = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise StudyError(f"{path}: cannot read it as JSON ({e})") from e
    if not isinstance(study, dict) or "trials" not in study or "directions" not in study:
        raise StudyError(f"{path}: not a study export (nabla-hpo export --format json)")
    return study


def complete(study):
    return [t for t in study["trials"] if t["state"] == "complete" and t["values"]]


def save(figure, out, name):
    path = os.path.join(out, name)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    print(path)


def plot_history(study, out):
    trials = complete(study)
    directions = study["directions"]
    figure, axes = plt.subplots(len(directions), 1, figsize=(7, 3.2 * len(directions)),
                                squeeze=False)
    for k, direction in enumerate(directions):
        ax = axes[k][0]
        numbers = [t["number"] for t in trials]
        values = [t["values"][k] for t in trials]
        ax.scatter(numbers, values, s=12, label="trial")
        best, best_curve = None, []
        for v in values:
            better = best is None or (v < best if direction == "minimize" else v > best)
            best = v if better else best
            best_curve.append(best)
        ax.step(numbers, best_curve, where="post", color="C3", label="best so far")
        ax.set_xlabel("trial")
        ax.set_ylabel(f"objective {k}" if len(directions) > 1 else "value")
        ax.legend()
    axes[0][0].set_title(f"{study['study']}: optimization history")
    save(figure, out, "history.png")


def coordinate(trial, name):
    """A parameter's position on its axis: log10 for log scales, the index for choices."""
    value = trial["params"][name]
    distribution = trial["distributions"][name]
    if distribution["type"] == "categorical":
        return float(distribution["choices"].index(value))
    return math.log10(value) if distribution.get("log") else float(value)


def axis_names(trials):
    names = sorted({name for t in trials for name in t["params"]})
    return [n for n in names if all(n in t["params"] for t in trials)]


def plot_parallel(study, out):
    trials = complete(study)
    names = axis_names(trials)
    if not trials or not names:
        return
    columns = [[coordinate(t, n) for t in trials] for n in names]
    spans = [(min(c), max(c)) for c in columns]
    values = [t["values"][0] for t in trials]
    lo, hi = min(values), max(values)
    colormap = plt.get_cmap("viridis_r" if study["directions"][0] == "minimize" else "viridis")
    figure, ax = plt.subplots(figsize=(max(6, 1.6 * len(names)), 4))
    for i in range(len(trials)):
        ys = [(col[i] - a) / (b - a) if b > a else 0.5 for col, (a, b) in zip(columns, spans)]
        shade = (values[i] - lo) / (hi - lo) if hi > lo else 0.5
        ax.plot(range(len(names)), ys, color=colormap(shade), alpha=0.6, linewidth=1)
    labels = []
    for n in names:
        d = trials[0]["distributions"][n]
        labels.append(f"log10 {n}" if d.get("log") else n)
    ax.set_xticks(range(len(names)), labels, rotation=20)
    ax.set_yticks([])
    figure.colorbar(plt.cm.ScalarMappable(cmap=colormap, norm=plt.Normalize(lo, hi)), ax=ax,
                    label="value")
    ax.set_title(f"{study['study']}: parallel coordinates")
    save(figure, out, "parallel.png")


def main_effect_share(xs, ys, bins=8):
    """Variance of the value's mean per bin of x, over the value's variance: the share of the
    variance x explains on its own (a first-order Sobol index estimated by binning)."""
    n = len(ys)
    mean = sum(ys) / n
    total = sum((y - mean) ** 2 for y in ys) / n
    if total == 0:
        return 0.0
    distinct = sorted(set(xs))
    if len(distinct) <= bins:
        groups = {x: [] for x in distinct}
        for x, y in zip(xs, ys):
            groups[x].append(y)
    else:
        lo, hi = min(xs), max(xs)
        groups = {}
        for x, y in zip(xs, ys):
            groups.setdefault(min(int((x - lo) / (hi - lo) * bins), bins - 1), []).append(y)
    between = sum(len(g) * (sum(g) / len(g) - mean) ** 2 for g in groups.values()) / n
    return between / total


def plot_importance(study, out):
    trials = complete(study)
    names = axis_names(trials)
    if len(trials) < 4 or not names:
        return
    values = [t["values"][0] for t in trials]
    shares = [main_effect_share([coordinate(t, n) for t in trials], values) for n in names]
    order = sorted(range(len(names)), key=lambda i: shares[i])
    figure, ax = plt.subplots(figsize=(6, 0.5 * len(names) + 1.5))
    ax.barh([names[i] for i in order], [shares[i] for i in order])
    ax.set_xlabel("share of the value's variance explained alone")
    ax.set_title(f"{study['study']}: parameter importance")
    save(figure, out, "importance.png")


def pareto_front(points, directions):
    signs = [1 if d == "minimize" else -1 for d in directions]

    def dominates(a, b):
        pairs = [(s * x, s * y) for s, x, y in zip(signs, a, b)]
        return all(x <= y for x, y in pairs) and any(x < y for x, y in pairs)

    return [p for p in points if not any(dominates(q, p) for q in points)]


def plot_pareto(study, out, names):
    directions = study["directions"]
    if len(directions) < 2:
        return
    points = [t["values"] for t in complete(study)]
    if not points:
        return
    front = sorted(pareto_front(points, directions))
    label = [f"{names[i] if i < len(names) else f'objective {i}'} ({d})"
             for i, d in enumerate(directions)]
    # With three or more objectives, the first against each other; the front is the one in all
    # of them, so its points need not form a line in any one panel.
    panels = len(directions) - 1
    figure, axes = plt.subplots(1, panels, figsize=(6 * panels, 4.5), squeeze=False)
    for k, ax in enumerate(axes[0], start=1):
        ax.scatter([p[0] for p in points], [p[k] for p in points], s=12, color="C0", label="trial")
        if len(directions) == 2:
            ax.plot([p[0] for p in front], [p[1] for p in front], "o-", color="C3",
                    label="Pareto front")
        else:
            ax.scatter([p[0] for p in front], [p[k] for p in front], s=30, color="C3",
                       label="Pareto front")
        ax.set_xlabel(label[0])
        ax.set_ylabel(label[k])
        ax.legend()
    figure.suptitle(f"{study['study']}: Pareto front")
    save(figure, out, "pareto.png")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("export", help="a study exported by nabla-hpo export --format json")
    parser.add_argument("--out", default="hpo-plots", help="folder for the PNGs")
    parser.add_argument("--names", default="",
                        help="the objectives' names for the axes, comma-separated")
    args = parser.parse_args()
    try:
        study = load(args.export)
    except StudyError as e:
        sys.exit(f"plot_study.py: {e}")
    if not complete(study):
        sys.exit(f"plot_study.py: {args.export}: no complete trial to draw")
    os.makedirs(args.out, exist_ok=True)
    plot_history(study, args.out)
    plot_parallel(study, args.out)
    plot_importance(study, args.out)
    plot_pareto(study, args.out, [n for n in args.names.split(",") if n])


if __name__ == "__main__":
    main()
