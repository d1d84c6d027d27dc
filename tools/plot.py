#!/usr/bin/env python3
"""Draws the curves of nabla-train's JSON-lines logs (--log run.jsonl) as PNG files.

    tools/plot.py runs/sgd.jsonl runs/adam.jsonl --out plots
    tools/plot.py runs/*.jsonl --out plots --prefix lr --title "Effect of the learning rate"

Writes into the --out folder, each name led by "PREFIX-" when --prefix is given:
    accuracy-epoch.png  loss-epoch.png   train (dotted), validation (solid, when the run held
    accuracy-time.png   loss-time.png    one out) and test (dashed) curves; --splits picks some
    lr-step.png                          the learning rate of every step
With --per-step, the curves come from the step records instead (full-batch runs, where a step
is the unit of progress): each record's training loss and accuracy (dotted) and its test values
where it holds them (dashed), against the step and against the time:
    loss-step.png  loss-step-time.png  accuracy-step.png  accuracy-step-time.png
One colour per log; its label is the file name without .jsonl, or the matching --label.
"""

import argparse
import json
import os
import sys

try:
    import matplotlib
except ImportError:
    sys.exit("plot.py: needs matplotlib (on Debian: apt-get install python3-matplotlib)")

matplotlib.use("Agg")  # files only: no display is needed or wanted
import matplotlib.pyplot as plt  # noqa: E402 (must follow the backend choice)
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

# Which epoch-record fields make a curve, and how it is drawn.
SPLITS = [("train", ":"), ("val", "-"), ("test", "--")]
SPLIT_NAMES = {"train": "train", "val": "validation", "test": "test"}


class LogError(Exception):
    """A log that cannot be read: the message names the file and what is wrong."""


class Run:
    """The records of one log, split by type."""

    def __init__(self, path, label):
        self.label = label
        self.epochs = []  # one record per epoch
        self.steps = []  # one record per optimizer step
        self.end = None  # the last record, when the run finished
        records = read_records(path)
        if not records or records[0].get("type") != "config":
            raise LogError(f"{path}: the first record is not the run's config; is this a "
                           "nabla-train --log file?")
        self.config = records[0].get("config", {})
        for record in records[1:]:
            kind = record.get("type")
            if kind == "epoch":
                self.epochs.append(record)
            elif kind == "step":
                self.steps.append(record)
            elif kind == "end":
                self.end = record
        if self.end and self.end.get("stopped") not in (None, "completed"):
            self.label += f" ({self.end['stopped'].replace('_', ' ')})"

    def has(self, field):
        return any(field in record for record in self.epochs)


def read_records(path):
    try:
        with open(path, encoding="utf-8") as log:
            lines = log.readlines()
    except OSError as error:
        raise LogError(f"{path}: {error.strerror}") from error
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise LogError(f"{path}, line {number}: not JSON ({error.msg})") from error
        if not isinstance(record, dict):
            raise LogError(f"{path}, line {number}: a record must be a JSON object")
        records.append(record)
    return records


def curve(records, x_field, y_field):
    points = [(r[x_field], r[y_field]) for r in records if x_field in r and y_field in r]
    return [x for x, _ in points], [y for _, y in points]


def save(figure, out, name):
    path = os.path.join(out, name)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    print(path)


def plot_metric(runs, metric, splits, x_field, x_label, title, out, name):
    """One axes: a colour per run, a line style per split (train, validation, test)."""
    figure, axes = plt.subplots(figsize=(8, 5))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    shown_splits = []
    for index, run in enumerate(runs):
        colour = colours[index % len(colours)]
        for split, style in SPLITS:
            field = f"{split}_{metric}"
            if split not in splits or not run.has(field):
                continue
            xs, ys = curve(run.epochs, x_field, field)
            axes.plot(xs, ys, linestyle=style, color=colour, marker="." if len(xs) < 30 else None)
            if split not in shown_splits:
                shown_splits.append(split)
    # One legend: which colour is which run, then which line style is which split.
    handles = [Line2D([], [], color=colours[i % len(colours)], label=run.label)
               for i, run in enumerate(runs)]
    handles += [Line2D([], [], color="black", linestyle=style, label=SPLIT_NAMES[split])
                for split, style in SPLITS if split in shown_splits]
    axes.legend(handles=handles, loc="best", fontsize="small")
    if x_field == "epoch":
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel(x_label)
    axes.set_ylabel("accuracy (%)" if metric == "accuracy" else "loss")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    save(figure, out, name)


def plot_step_metric(runs, metric, x_field, x_label, log_y, title, out, name):
    """One axes from the step records: the training value (dotted) and the test value (dashed)."""
    figure, axes = plt.subplots(figsize=(8, 5))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    shown = []
    for index, run in enumerate(runs):
        colour = colours[index % len(colours)]
        for field, style, split in ((metric, ":", "train"), (f"test_{metric}", "--", "test")):
            xs, ys = curve(run.steps, x_field, field)
            if not xs:
                continue
            axes.plot(xs, ys, linestyle=style, color=colour, marker="." if len(xs) < 30 else None)
            if split not in shown:
                shown.append(split)
    handles = [Line2D([], [], color=colours[i % len(colours)], label=run.label)
               for i, run in enumerate(runs)]
    handles += [Line2D([], [], color="black", linestyle=style, label=split)
                for split, style in (("train", ":"), ("test", "--")) if split in shown]
    axes.legend(handles=handles, loc="best", fontsize="small")
    if log_y:
        axes.set_yscale("log")
    axes.set_xlabel(x_label)
    axes.set_ylabel("accuracy (%)" if metric == "accuracy" else "loss")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    save(figure, out, name)


def plot_lr(runs, title, out, name):
    figure, axes = plt.subplots(figsize=(8, 5))
    lrs = []
    for run in runs:
        xs, ys = curve(run.steps, "step", "lr")
        axes.plot(xs, ys, label=run.label, drawstyle="steps-post")
        lrs += ys
    # Rates a decade or more apart (a learning-rate sweep) read better on a log scale.
    if lrs and min(lrs) > 0 and max(lrs) / min(lrs) >= 10:
        axes.set_yscale("log")
    axes.set_xlabel("step")
    axes.set_ylabel("learning rate")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    save(figure, out, name)


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("logs", nargs="+", metavar="LOG",
                        help="a JSON-lines log written by nabla-train --log")
    parser.add_argument("--out", default="plots", help="folder for the PNGs (default: plots)")
    parser.add_argument("--label", action="append", default=[],
                        help="legend label of the next log, in order (default: its file name)")
    parser.add_argument("--prefix", default="", help="start of every PNG's file name")
    parser.add_argument("--title", default="", help="the plots' title")
    parser.add_argument("--splits", default="train,val,test",
                        help="which curves to draw, of train, val and test (default: all three; "
                        "those a log lacks are skipped)")
    parser.add_argument("--per-step", action="store_true",
                        help="draw the step records against step and time instead of the epochs")
    parser.add_argument("--log-loss", action="store_true", help="with --per-step, draw the loss on a log scale")
    args = parser.parse_args()
    args.splits = args.splits.split(",")
    for split in args.splits:
        if split not in SPLIT_NAMES:
            parser.error(f"--splits: '{split}' is not one of train, val, test")
    if len(args.label) > len(args.logs):
        parser.error(f"{len(args.label)} labels for {len(args.logs)} logs")
    return args


def main():
    args = parse_arguments()
    labels = args.label + [os.path.basename(path).removesuffix(".jsonl")
                           for path in args.logs[len(args.label):]]
    try:
        runs = [Run(path, label) for path, label in zip(args.logs, labels)]
    except LogError as error:
        print(f"plot.py: {error}", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    prefix = args.prefix + "-" if args.prefix and not args.prefix.endswith("-") else args.prefix
    config = runs[0].config
    title = args.title or f"{config.get('dataset', '')} {config.get('model', '')}".strip()
    if args.per_step:
        for metric in ("accuracy", "loss"):
            log_y = args.log_loss and metric == "loss"
            plot_step_metric(runs, metric, "step", "step", log_y, title, args.out,
                             f"{prefix}{metric}-step.png")
            plot_step_metric(runs, metric, "time", "time in steps (s)", log_y, title, args.out,
                             f"{prefix}{metric}-step-time.png")
        return 0
    for metric in ("accuracy", "loss"):
        plot_metric(runs, metric, args.splits, "epoch", "epoch", title, args.out,
                    f"{prefix}{metric}-epoch.png")
        plot_metric(runs, metric, args.splits, "time", "training time (s)", title, args.out,
                    f"{prefix}{metric}-time.png")
    plot_lr(runs, title, args.out, f"{prefix}lr-step.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
