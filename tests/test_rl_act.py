"""aaren rl act: a saved decision model's actions for an episode given as a CSV of rewards and
observations. The returns-to-go are the target less the rewards so far; the actions are causal
(an episode cut short gives the same first actions) and depend on the target; bad input (a
missing file, rows of the wrong width, NaN or text, an empty file, a file that is not a
decision model) is a clear error naming the file (and line) with a non-zero exit and no
output file. The actions themselves are checked against aaren serve's batched path in
tests/test_serve.py. Needs MuJoCo model files and HDF5 for the training data (else skipped)."""
import argparse
import os
import random
import shutil
import sys
import tempfile
from pycheck import check, done, run, skip

NAME = "test_rl_act"
TINY = ["--d-model", "8", "--n-heads", "2", "--n-layers", "1", "--d-ff", "16", "--quiet"]


def write_csv(path, rows, header="reward," + ",".join(f"o{i}" for i in range(11))):
    with open(path, "w") as f:
        f.write(header + "\n" + "".join(",".join(str(v) for v in r) + "\n" for r in rows))


def read_csv(path):
    with open(path) as f:
        return [line.rstrip("\n").split(",") for line in f]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aaren", required=True)
    aaren = ap.parse_args().aaren
    shared = os.environ.get("AAREN_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
    xml = os.path.join(shared, "data", "rl", "mujoco_xml")
    if not os.path.exists(os.path.join(xml, "hopper.xml")):
        skip(NAME, f"no MuJoCo model files in {xml}")
    tmp = tempfile.mkdtemp(prefix="aaren_rl_act_")
    try:
        return act_tests(aaren, xml, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def act_tests(aaren, xml, tmp):
    p = run([aaren, "rl", "make-data", "--env", "hopper", "--size", "500", "--train-episodes", "16", "--eval-episodes", "1",
             "--out", tmp, "--xml-dir", xml, "--quiet"])
    if p.returncode and ("no MuJoCo" in p.stderr or "no HDF5" in p.stderr):
        skip(NAME, p.stderr.strip()[:200])
    check(p.returncode == 0, f"rl make-data ({p.stderr.strip()[:200]})")
    model = os.path.join(tmp, "dt.safetensors")
    p = run([aaren, "rl", "train", "--data", os.path.join(tmp, "hopper-medium.hdf5"), "--steps", "20", "--batch", "8",
             "--K", "4", "--eval-episodes", "0", "--save", model] + TINY)
    check(p.returncode == 0, f"rl train --save ({p.stderr.strip()[:200]})")

    rng = random.Random(3)
    n = 12
    rows = [[0 if t == 0 else round(rng.gauss(1, 0.5), 3)] + [round(rng.gauss(0, 1), 4) for _ in range(11)] for t in range(n)]
    ep, out = os.path.join(tmp, "episode.csv"), os.path.join(tmp, "actions.csv")
    write_csv(ep, rows)

    def act(rows_=None, target=None, out_=out):
        if rows_ is not None:
            write_csv(ep, rows_)
        p = run([aaren, "rl", "act", "--model", model, "--input", ep, "--output", out_] +
                (["--target", str(target)] if target is not None else []))
        return p, (read_csv(out_) if p.returncode == 0 else None)

    p, got = act(rows, 1000)
    check(p.returncode == 0 and f"{n} steps" in p.stdout and got[0] == ["step", "return_to_go", "a_1", "a_2", "a_3"]
          and len(got) == n + 1, f"rl act: one row of 3 actions per step ({p.stderr.strip()[:200]})")
    rtg, expect = [float(r[1]) for r in got[1:]], []
    left = 1000.0
    for t, r in enumerate(rows):
        left -= r[0] if t else 0
        expect.append(left)
    check(all(abs(a - b) <= 1e-9 * abs(b) for a, b in zip(rtg, expect)),
          "rl act: the return-to-go is the target less the rewards so far (the first row's reward unused)")
    acts = [[float(v) for v in r[2:]] for r in got[1:]]
    check(all(-1 <= v <= 1 for a in acts for v in a) and len({tuple(a) for a in acts}) == n,
          "rl act: actions in [-1, 1] (tanh), one per step, not all alike")
    _, short = act(rows[:5], 1000)
    check(short is not None and short[1:] == got[1:6], "rl act: causal: the first 5 steps alone give the same 5 rows")
    _, other = act(rows, 3000)
    check(other is not None and [r[2:] for r in other[1:]] != [r[2:] for r in got[1:]],
          "rl act: a different target return gives different actions")
    _, dflt = act(rows)
    _, explicit = act(rows, 3600)
    check(dflt is not None and dflt == explicit, "rl act: without --target the environment's default (hopper: 3600)")

    # bad input: an error naming the file (and line), exit 1, and no output file
    fresh = os.path.join(tmp, "never.csv")
    cases = [
        ("a missing file", None, os.path.join(tmp, "nope.csv"), ["nope.csv", "cannot open"]),
        ("a row of 11 numbers", rows[:2] + [rows[2][:11]], ep, ["episode.csv", "line 4", "11 columns", "takes 12"]),
        ("a row of 13 numbers", rows[:1] + [rows[1] + [0.5]], ep, ["line 3", "13 columns"]),
        ("NaN", rows[:1] + [rows[1][:3] + ["nan"] + rows[1][4:]], ep, ["line 3", "column 4", "finite number"]),
        ("inf", [["inf"] + rows[0][1:]], ep, ["line 2", "column 1", "finite number"]),
        ("text", [rows[0][:5] + ["abc"] + rows[0][6:]], ep, ["line 2", "'abc'"]),
        ("an empty file", "", ep, ["episode.csv", "empty"]),
        ("a header only", [], ep, ["no rows"]),
        ("a value beyond float32", [rows[0][:2] + ["1e39"] + rows[0][3:]], ep, ["line 2", "column 3"]),
    ]
    for what, content, path, wants in cases:
        if content == "":
            open(ep, "w").close()
        elif content is not None:
            write_csv(ep, content)
        p = run([aaren, "rl", "act", "--model", model, "--input", path, "--output", fresh])
        check(p.returncode == 1 and all(w in p.stderr for w in wants) and not os.path.exists(fresh),
              f"rl act: {what} is an error naming it, exit 1, no output: {p.stderr.strip()[:200]}")
    write_csv(ep, rows)
    enc = os.path.join(tmp, "encoder.safetensors")
    run([aaren, "init", "--d-model", "8", "--n-heads", "2", "--n-layers", "1", "--d-ff", "16", "--output", enc])
    p = run([aaren, "rl", "act", "--model", enc, "--input", ep, "--output", fresh])
    check(p.returncode == 1 and "not a decision-model checkpoint" in p.stderr and not os.path.exists(fresh),
          f"rl act: a checkpoint that is not a decision model is named: {p.stderr.strip()[:200]}")
    p = run([aaren, "rl", "act", "--model", model, "--output", fresh])
    check(p.returncode == 2 and "--input" in p.stderr, f"rl act: no --input is a usage error: {p.stderr.strip()[:200]}")
    p = run([aaren, "rl", "act", "--model", model, "--input", ep, "--output", fresh, "--target", "nan"])
    check(p.returncode == 2 and "--target" in p.stderr, f"rl act: --target nan is a usage error: {p.stderr.strip()[:200]}")
    return done(NAME)


if __name__ == "__main__":
    sys.exit(main())
