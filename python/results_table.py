"""Shared pieces of the results summaries (summarize_*.py): reading a runs CSV grouped by
columns (one row per seed), and formatting a list of per-seed values as mean ± sample standard deviation."""
import csv
import math
import statistics
import sys
from collections import defaultdict

from atomic_save import atomic_open


def read_groups(path, *keys):
    """Rows of the runs CSV grouped by the tuple of the given columns. A run that appears
    twice in a group (the same seed: a resumed grid that reran a run cut short) counts once,
    its last row, and is named on stderr."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    groups = defaultdict(dict)
    for r in rows:
        key = tuple(r[k] for k in keys)
        if r["seed"] in groups[key]:
            print(f"{path}: {' '.join(key)} seed {r['seed']} appears more than once; the last row counts",
                  file=sys.stderr)
        groups[key][r["seed"]] = r
    return {k: list(v.values()) for k, v in groups.items()}


def _spread(vals, spec, with_n):
    """'m ± s (n=k)' over the finite values, 'm (n=1)' for one value (no spread to show),
    '-' when there are none; both numbers in the format spec(m) gives for the mean m."""
    vals = [v for v in vals if not math.isnan(v)]
    if not vals:
        return "-"
    m = statistics.mean(vals)
    f = spec(m)
    text = f"{m:{f}} ± {statistics.stdev(vals):{f}}" if len(vals) > 1 else f"{m:{f}}"
    return f"{text} (n={len(vals)})" if with_n else text


def mean_std(vals, digits=3, with_n=True):
    """Mean ± sample std with digits decimals (see _spread)."""
    return _spread(vals, lambda m: f".{digits}f", with_n)


def mean_std_wide(vals, digits=4, with_n=False):
    """As mean_std, for values whose scale differs between data sets (an RMSE in a data set's own
    time units): digits decimals below 1,000, whole numbers from 1,000, and from a million up
    scientific notation (4 significant digits), so that a heavy-tailed mean stays readable."""
    return _spread(vals, lambda m: ".3e" if abs(m) >= 1e6 else f".{digits if abs(m) < 1e3 else 0}f", with_n)


def write_md(dst, lines):
    """Writes the table's lines to dst and says so."""
    with atomic_open(dst) as f:
        f.write("\n".join(lines))
    print(f"wrote {dst}")
