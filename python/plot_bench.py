#!/usr/bin/env python3
"""Draws the streaming figure of `aaren bench` from PREFIX_stream.csv into PREFIX_stream.png.

Two panels against tokens processed one at a time, both architectures, log axes:
  left   memory: the stream's own state (aaren_stream_state_bytes, solid) and the
         process's resident set (RSS, dotted)
  right  cumulative wall time to process N tokens
Points `aaren bench` extrapolated (the Transformer beyond where its time budget stopped
it; column measured = 0) are drawn dashed without markers.

usage: plot_bench.py PREFIX [--title TEXT] [--output FILE.png]
Exit code 77 when matplotlib is missing.
"""

import argparse
import csv
import sys

from atomic_save import save_figure

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker
except ImportError as e:
    print(f"plot_bench: {e}; install python3-matplotlib", file=sys.stderr)
    sys.exit(77)

COLORS = {"aaren": "tab:blue", "transformer": "tab:red"}
NAMES = {"aaren": "Aaren", "transformer": "Transformer (KV cache)"}


def read_rows(path):
    """{arch: [row dict with numeric fields]} in file order."""
    rows = {}
    try:
        with open(path, newline="") as f:
            for i, row in enumerate(csv.DictReader(f), start=2):
                try:
                    rec = {"tokens": int(row["tokens"]), "cum": float(row["cumulative_s"]),
                           "rss": int(row["rss_bytes"]), "state": int(row["state_bytes"]),
                           "measured": row["measured"] == "1"}
                except (KeyError, ValueError) as e:
                    raise ValueError(f"{path}:{i}: bad row ({e})") from None
                rows.setdefault(row["arch"], []).append(rec)
    except OSError as e:
        raise ValueError(f"{path}: cannot read ({e.strerror})") from None
    if not rows:
        raise ValueError(f"{path}: no rows")
    return rows


def token_label(n, _pos):
    """1, 32, 1K, 32K, 1M for the powers of two on the token axis."""
    n = int(round(n))
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return f"{n >> 20}M"
    if n >= 1 << 10 and n % (1 << 10) == 0:
        return f"{n >> 10}K"
    return str(n)


def draw(rows, title, output):
    fig, (mem, cum) = plt.subplots(1, 2, figsize=(11, 4.4))
    for arch, recs in rows.items():
        color, name = COLORS.get(arch, "black"), NAMES.get(arch, arch)
        meas = [r for r in recs if r["measured"]]
        extra = [r for r in recs if not r["measured"]]
        if extra and meas:
            extra = [meas[-1]] + extra          # joins the dashed part to the measured one
        x = [r["tokens"] for r in meas]
        mem.plot(x, [max(r["state"], 1) for r in meas], "o-", color=color, ms=3,
                 label=f"{name}: stream state")
        rss = [r for r in meas if r["rss"] > 0]
        mem.plot([r["tokens"] for r in rss], [r["rss"] for r in rss], ":", color=color,
                 label=f"{name}: process RSS")
        cum.plot(x, [max(r["cum"], 1e-7) for r in meas], "o-", color=color, ms=3, label=name)
        if len(extra) > 1:
            ex = [r["tokens"] for r in extra]
            mem.plot(ex, [r["state"] for r in extra], "--", color=color, alpha=0.6)
            cum.plot(ex, [r["cum"] for r in extra], "--", color=color, alpha=0.6,
                     label=f"{name}: extrapolated")
    for ax in (mem, cum):
        ax.set_xscale("log", base=2)
        ax.set_xlim(left=0.7)
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(token_label))
        ax.set_yscale("log")
        ax.set_xlabel("tokens processed one at a time")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8)
    mem.set_ylabel("bytes")
    mem.set_title("memory")
    cum.set_ylabel("seconds")
    cum.set_title("cumulative time")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, output, dpi=120)
    print(f"wrote {output}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("prefix", help="the --csv PREFIX given to aaren bench")
    p.add_argument("--title", default="")
    p.add_argument("--output", help="default PREFIX_stream.png")
    args = p.parse_args()
    try:
        rows = read_rows(args.prefix + "_stream.csv")
    except ValueError as e:
        print(f"plot_bench: error: {e}", file=sys.stderr)
        return 2
    draw(rows, args.title, args.output or args.prefix + "_stream.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
