#!/usr/bin/env python3
"""Converts event sequences in the THP / EasyTPP layouts to the event CSV that `aaren events
--data` reads.

Inputs, one file per split (train, dev, test), in either layout:
  - a pickle (THP, EasyTPP): a dict whose entry named after the split (or any non-empty one of
    train / dev / test) is a list of sequences, each a list of events
    {time_since_start, time_since_last_event, type_event};
  - JSON (EasyTPP's published files): a list of sequences, each a dict of equal-length lists
    time_since_start, time_since_last_event, type_event (other keys ignored), or a dict with
    the split's key holding such a list.
Pickles are read with a restricted unpickler that builds plain containers and numpy scalars
only: a file that asks for anything else is refused, never executed.

Output (all or nothing): split,seq_id,event_idx,time_since_start,time_since_last_event,type_event
with seq_id counted from 0 within each split and times written as float32 shortest decimals,
the layout of ../shared/data/events/MIMIC/mimic_events.csv.

  convert_events.py --train train.pkl --dev dev.pkl --test test.pkl --output events.csv"""
import argparse
import json
import os
import pickle
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from atomic_save import atomic_open  # noqa: E402

SPLITS = ("train", "dev", "test")
# numpy scalars, and the bytes of their buffers as Python 3 writes protocol-2 pickles
_ALLOWED = {("numpy", "dtype"), ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
            ("_codecs", "encode")}


class ConvertError(Exception):
    """A file that cannot be converted; the message names it and the fault."""


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in _ALLOWED:
            raise ConvertError(f"refusing to load {module}.{name} (only containers and numpy scalars are read)")
        return super().find_class(module, name)


def _load(path):
    with open(path, "rb") as f:
        head = f.read(1)
        f.seek(0)
        if head in (b"[", b"{") or path.endswith(".json"):
            try:
                return json.load(f)
            except (ValueError, UnicodeDecodeError) as e:
                raise ConvertError(f"{path}: not valid JSON: {e}") from None
        try:
            return _SafeUnpickler(f, encoding="latin1").load()
        except ConvertError as e:
            raise ConvertError(f"{path}: {e}") from None
        except Exception as e:
            raise ConvertError(f"{path}: not a readable pickle: {e}") from None


def _sequences(data, split, path):
    """The list of sequences of one split in a loaded file."""
    if isinstance(data, dict):
        if split in data and data[split]:
            data = data[split]
        else:
            full = [k for k in SPLITS if data.get(k)]
            if len(full) != 1:
                raise ConvertError(f"{path}: no sequences under '{split}' (non-empty keys: {', '.join(full) or 'none'})")
            data = data[full[0]]
    if not isinstance(data, list):
        raise ConvertError(f"{path}: expected a list of sequences, got {type(data).__name__}")
    return data


def _events(seq, path, s):
    """(time_since_start, time_since_last_event, type_event) lists of one sequence."""
    keys = ("time_since_start", "time_since_last_event", "type_event")
    if isinstance(seq, dict):                                   # EasyTPP JSON: lists per key
        if any(k not in seq for k in keys):
            raise ConvertError(f"{path}: sequence {s} lacks one of {', '.join(keys)}")
        cols = [list(seq[k]) for k in keys]
        if len({len(c) for c in cols}) != 1:
            raise ConvertError(f"{path}: sequence {s}: the lists {', '.join(keys)} differ in length")
    elif isinstance(seq, list):                                 # THP pickle: a dict per event
        for i, e in enumerate(seq):
            if not isinstance(e, dict) or any(k not in e for k in keys):
                raise ConvertError(f"{path}: sequence {s} event {i}: expected a dict with {', '.join(keys)}")
        cols = [[e[k] for e in seq] for k in keys]
    else:
        raise ConvertError(f"{path}: sequence {s} is a {type(seq).__name__}, not a list or dict")
    t, dt, k = cols
    for i in range(len(t)):
        ti, di, ki = t[i], dt[i], k[i]
        if not (np.isfinite(float(ti)) and np.isfinite(float(di))):
            raise ConvertError(f"{path}: sequence {s} event {i}: a time is not finite")
        if int(ki) != ki or int(ki) < 0:
            raise ConvertError(f"{path}: sequence {s} event {i}: type_event {ki!r} is not an integer >= 0")
        if i and float(ti) < float(t[i - 1]):
            raise ConvertError(f"{path}: sequence {s} event {i}: time_since_start decreases")
    return t, dt, k


def _num(v):
    return str(np.float32(v))


def convert(files, output):
    """files: {split: path}; writes output; returns {split: (sequences, events)}."""
    rows, counts = [], {}
    for split in SPLITS:
        if split not in files:
            continue
        path = files[split]
        seqs = _sequences(_load(path), split, path)
        n_ev = 0
        for s, seq in enumerate(seqs):
            t, dt, k = _events(seq, path, s)
            for i in range(len(t)):
                rows.append(f"{split},{s},{i},{_num(t[i])},{_num(dt[i])},{int(k[i])}\n")
            n_ev += len(t)
        counts[split] = (len(seqs), n_ev)
    if not rows:
        raise ConvertError("no events in the input files")
    with atomic_open(output) as f:
        f.write("split,seq_id,event_idx,time_since_start,time_since_last_event,type_event\n")
        f.writelines(rows)
    return counts


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    for s in SPLITS:
        ap.add_argument(f"--{s}", metavar="FILE", help=f"the {s} split (.pkl or .json)")
    ap.add_argument("--output", required=True, metavar="OUT.csv")
    a = ap.parse_args(argv)
    files = {s: getattr(a, s) for s in SPLITS if getattr(a, s)}
    if not files:
        ap.error("give at least one of --train, --dev, --test")
    try:
        counts = convert(files, a.output)
    except (ConvertError, OSError) as e:
        print(f"convert_events: {e}", file=sys.stderr)
        return 1
    for s, (n, e) in counts.items():
        print(f"{s}: {n} sequences, {e} events")
    print(f"wrote {a.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
