"""Every training command through the one engine: a run stopped in the middle of an epoch (or of
its steps) and resumed from its checkpoint ends with the same parameters, to the last bit, and
the same results row as the run that was never stopped; the log holds each step once; a
--config file is read before the command line, which overrides it, and the options a
checkpoint keeps rerun the same result. Skips (77) without Debian's python3 and numpy."""
import argparse
import csv
import os
import shlex
import sys
import tempfile

from pycheck import check, done, run, skip

sys.path.insert(0, os.path.dirname(__file__))
from test_classify import write_problem  # noqa: E402
from test_outputs import write_series  # noqa: E402

try:
    import numpy as np
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
    import aaren_twin
except ImportError as e:
    skip("test_resume", f"{e} (use Debian's /usr/bin/python3 with numpy and torch)")

TINY = ["--d-model", "8", "--n-heads", "2", "--n-layers", "1", "--d-ff", "16", "--quiet"]
TIMING = {"seconds", "threads", "train_s", "step_us"}   # columns that measure the machine, not the run


def rows(path):
    with open(path, newline="") as f:
        return [{k: v for k, v in r.items() if k not in TIMING} for r in csv.DictReader(f)]


def same_tensors(a, b):
    ta, _ = aaren_twin.load_safetensors(a)
    tb, _ = aaren_twin.load_safetensors(b)
    return set(ta) == set(tb) and all(np.array_equal(ta[k], tb[k]) for k in ta)


def resume_case(a, d, name, cmd, cut):
    """cmd run whole, then cut after `cut` steps and resumed: same checkpoint, same row."""
    full, part = os.path.join(d, f"{name}_full.safetensors"), os.path.join(d, f"{name}_part.safetensors")
    csv_full, csv_part = os.path.join(d, f"{name}_full.csv"), os.path.join(d, f"{name}_part.csv")
    log = os.path.join(d, f"{name}_log.csv")
    r = run([a, *cmd, "--save", full, "--results-csv", csv_full])
    check(r.returncode == 0, f"{name}: the whole run ({r.stderr.strip()[:200]})")
    r = run([a, *cmd, "--save", part, "--stop-after", str(cut), "--log", log])
    check(r.returncode == 0 and "stopped" in r.stdout and not os.path.exists(csv_part),
          f"{name}: stopped after {cut} steps ({r.stderr.strip()[:200]})")
    r = run([a, *cmd, "--save", part, "--resume", part, "--results-csv", csv_part, "--log", log])
    check(r.returncode == 0, f"{name}: resumed ({r.stderr.strip()[:200]})")
    if r.returncode:
        return
    check(same_tensors(full, part), f"{name}: the resumed run's checkpoint equals the whole run's, bit for bit")
    check(rows(csv_full) == rows(csv_part), f"{name}: the same results row ({rows(csv_full)} vs {rows(csv_part)})")
    steps = [int(x["step"]) for x in csv.DictReader(open(log)) if x["kind"] == "train"]
    check(steps == list(range(1, len(steps) + 1)) and len(steps) > cut,
          f"{name}: the log holds steps 1..{len(steps)} once each")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aaren", required=True)
    a = ap.parse_args().aaren
    with tempfile.TemporaryDirectory() as d:
        series = os.path.join(d, "s.csv")
        write_series(series)
        fc = ["forecast", "--data", series, "--seq-len", "8", "--pred-len", "4", "--epochs", "3", "--batch", "16",
              "--dropout", "0.1", "--seed", "5", *TINY]
        resume_case(a, d, "forecast", fc, 11)   # 16 steps per epoch: cut inside the first
        problem = os.path.join(d, "P")
        os.makedirs(problem)
        write_problem(os.path.join(problem, "P_TRAIN.ts"), 60, 1)
        write_problem(os.path.join(problem, "P_TEST.ts"), 30, 2)
        resume_case(a, d, "classify", ["classify", "--data", problem, "--epochs", "4", "--batch", "8", "--seed", "2",
                                       *TINY], 9)
        resume_case(a, d, "events", ["events", "--sin", "--sin-seqs", "40", "--epochs", "3", "--batch", "4",
                                     "--components", "2", "--seed", "4", *TINY], 8)
        train = ["train", "--steps", "25", "--batch", "4", "--tokens", "16", "--dropout", "0.1", "--seed", "6", *TINY]
        full, part = os.path.join(d, "t_full.safetensors"), os.path.join(d, "t_part.safetensors")
        r1 = run([a, *train, "--save", full])
        run([a, *train, "--save", part, "--stop-after", "7"])
        run([a, *train, "--save", part, "--stop-after", "9", "--resume", part])
        r2 = run([a, *train, "--save", part, "--resume", part])
        check(r1.returncode == 0 and r2.returncode == 0 and same_tensors(full, part),
              "train: three shards (7, 9, the rest) end bit for bit where the whole run ends")

        # --config: read first, the command line overrides it; the checkpoint's options rerun the run
        cfg = os.path.join(d, "run.cfg")
        with open(cfg, "w") as f:
            f.write("# a forecasting run\n--data " + series + "\n--seq-len 8\n--pred-len 4\n--epochs 2\n"
                    "--batch 16\n--seed 9\n--d-model 8\n--n-heads 2\n--n-layers 1\n--d-ff 16\n--lr 0.01\n--quiet\n")
        c1 = os.path.join(d, "c1.safetensors")
        r = run([a, "forecast", "--config", cfg, "--seed", "5", "--save", c1])
        check(r.returncode == 0, f"forecast --config runs ({r.stderr.strip()[:200]})")
        _, meta = aaren_twin.load_safetensors(c1)
        kept = meta.get("fit.options", "")
        check("--seed 5\n" in kept and "--seed 9" not in kept and "--lr 0.01\n" in kept and "--save" not in kept,
              f"the checkpoint keeps the options in force, the command line winning: {kept!r}")
        dumped = os.path.join(d, "dumped.cfg")
        with open(dumped, "w") as f:
            f.write(kept)
        c2 = os.path.join(d, "c2.safetensors")
        r2 = run([a, "forecast", "--config", dumped, "--save", c2])
        def figures(out):   # the test line without its timing
            return [l.split("best epoch")[0] for l in out.splitlines() if l.startswith("test MSE")]
        check(r2.returncode == 0 and same_tensors(c1, c2) and figures(r.stdout) == figures(r2.stdout) != [],
              "rerunning from the kept options gives the same model and test figures")
        # a results row reruns itself: its options column is the command line
        runs = os.path.join(d, "runs.csv")
        r = run([a, "forecast", "--config", cfg, "--seed", "5", "--results-csv", runs])
        row = list(csv.DictReader(open(runs)))[-1]
        c3 = os.path.join(d, "c3.safetensors")
        r3 = run([a, "forecast", *shlex.split(row.get("options", "")), "--quiet", "--save", c3])
        check(r3.returncode == 0 and same_tensors(c1, c3),
              f"the results row's options rerun the same model ({row.get('options')!r})")
        old = os.path.join(d, "old.csv")   # a file from before the column keeps its layout
        with open(old, "w") as f:
            f.write(open(runs).readline().replace(",options", ""))
        run([a, "forecast", "--config", cfg, "--results-csv", old])
        lines = open(old).read().splitlines()
        check(len(lines) == 2 and lines[1].count(",") == lines[0].count(","),
              "an older results file without the options column gets rows of its own layout")
        with open(cfg, "a") as f:
            f.write("forecast\n")
        r = run([a, "forecast", "--config", cfg])
        check(r.returncode == 2 and "run.cfg" in r.stderr and "line 14" in r.stderr, f"a bad config line: {r.stderr.strip()}")
        r = run([a, "forecast", "--config", os.path.join(d, "none.cfg")])
        check(r.returncode == 2 and "none.cfg" in r.stderr, f"a missing config: {r.stderr.strip()}")
        r = run([a, "classify", "--data", problem, "--resume", c1, *TINY])
        check(r.returncode == 1 and "c1.safetensors" in r.stderr and "forecast" in r.stderr,
              f"resuming another task's checkpoint is refused: {r.stderr.strip()[:200]}")
    return done("test_resume")


if __name__ == "__main__":
    sys.exit(main())
