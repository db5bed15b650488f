"""Draws a forecast CSV written by `aaren forecast --plot PREFIX`: history, truth and
forecast of each output channel (at most four panels). usage: plot_forecast.py IN.csv OUT.png"""
import csv
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

from atomic_save import save_figure  # noqa: E402


def main(src, dst):
    with open(src, newline="") as f:
        rows = list(csv.reader(f))
    names = rows[0][2:]
    data = {"history": [], "truth": [], "forecast": []}
    for r in rows[1:]:
        data[r[1]].append((int(r[0]), [float(v) for v in r[2:]]))
    shown = list(range(len(names)))[-4:]          # the target is the last column
    fig, axes = plt.subplots(len(shown), 1, figsize=(9, 2.4 * len(shown)), squeeze=False)
    for ax, j in zip(axes[:, 0], shown):
        for kind, style in (("history", "k-"), ("truth", "g-"), ("forecast", "r--")):
            ax.plot([t for t, _ in data[kind]], [v[j] for _, v in data[kind]], style, label=kind, lw=1.2)
        ax.set_ylabel(names[j])
        ax.axvline(0, color="grey", lw=0.6)
    axes[0, 0].legend(loc="upper left", fontsize=8)
    axes[-1, 0].set_xlabel("steps from the forecast origin")
    fig.tight_layout()
    save_figure(fig, dst, dpi=110)
    print(f"wrote {dst}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
