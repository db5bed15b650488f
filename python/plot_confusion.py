"""Draws a confusion matrix written by `aaren classify --confusion PREFIX` (PREFIX.csv: a
header of predicted labels, then one row per true label with counts) as a PNG heat map.

    /usr/bin/python3 python/plot_confusion.py PREFIX.csv PREFIX.png [TITLE]
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from atomic_save import save_figure  # noqa: E402


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: plot_confusion.py IN.csv OUT.png [TITLE]")
    with open(sys.argv[1], newline="") as f:
        rows = list(csv.reader(f))
    if len(rows) < 2:
        sys.exit("%s: no rows" % sys.argv[1])
    labels = rows[0][1:]
    true = [r[0] for r in rows[1:]]
    counts = [[int(v) for v in r[1:]] for r in rows[1:]]
    if any(len(r) != len(labels) for r in counts) or len(true) != len(labels):
        sys.exit("%s: not a square matrix" % sys.argv[1])
    n = len(labels)
    size = max(4.0, min(14.0, 0.35 * n + 2.5))
    fig, ax = plt.subplots(figsize=(size, size * 0.9))
    totals = [max(1, sum(r)) for r in counts]
    frac = [[c / t for c in r] for r, t in zip(counts, totals)]
    im = ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xticklabels(labels, rotation=90 if n > 8 else 0, fontsize=8 if n > 12 else 10)
    ax.set_yticklabels(true, fontsize=8 if n > 12 else 10)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if n <= 16:
        for i in range(n):
            for j in range(n):
                if counts[i][j]:
                    ax.text(j, i, str(counts[i][j]), ha="center", va="center", fontsize=8,
                            color="white" if frac[i][j] > 0.6 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="fraction of the true class")
    if len(sys.argv) > 3:
        ax.set_title(sys.argv[3], fontsize=10)
    fig.tight_layout()
    save_figure(fig, sys.argv[2], dpi=110)
    print("wrote %s" % sys.argv[2])


if __name__ == "__main__":
    main()
