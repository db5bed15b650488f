"""Draws a training log written by `--log FILE.csv` (any training command of aaren): the
training loss per step (raw and smoothed) and every evaluation metric per epoch, as a PNG.

    /usr/bin/python3 python/plot_log.py LOG.csv OUT.png [--title TEXT]

Exit code 77 when matplotlib is missing."""
import argparse
import csv
import sys

from atomic_save import save_figure

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError as e:
    print(f"plot_log: {e}; install python3-matplotlib", file=sys.stderr)
    sys.exit(77)


def read(path):
    """Training rows as (step, loss); evaluation rows as {metric: [(step, value)]}."""
    train, evals = [], {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row.get("kind") == "train":
                train.append((int(row["step"]), float(row["loss"])))
            elif row.get("kind") == "eval":
                evals.setdefault(row["metric"], []).append((int(row["step"]), float(row["value"])))
    return train, evals


def smooth(values, k):
    out, acc = [], 0.0
    for i, v in enumerate(values):
        acc += v
        if i >= k:
            acc -= values[i - k]
        out.append(acc / min(i + 1, k))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("output")
    ap.add_argument("--title", default="")
    args = ap.parse_args()
    train, evals = read(args.log)
    if not train:
        sys.exit(f"plot_log: {args.log}: no training rows (is it a log written by --log?)")
    panels = 1 + (len(evals) > 0)
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 4), squeeze=False)
    steps, losses = zip(*train)
    ax = axes[0, 0]
    ax.plot(steps, losses, color="0.75", lw=0.8, label="loss per step")
    ax.plot(steps, smooth(list(losses), max(1, len(losses) // 50)), color="tab:blue", lw=1.5, label="smoothed")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.legend(fontsize=8)
    if evals:
        ax = axes[0, 1]
        for name, pts in sorted(evals.items()):
            ax.plot([s for s, _ in pts], [v for _, v in pts], marker="o", ms=3, label=name)
        ax.set_xlabel("step")
        ax.set_ylabel("evaluation")
        ax.legend(fontsize=8)
    if args.title:
        fig.suptitle(args.title)
    fig.tight_layout()
    save_figure(fig, args.output, dpi=110)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
