"""`aaren classify` end to end: on a small synthetic .ts problem written here (unequal
lengths, missing values, string labels) both architectures learn it, a saved model predicts
the same accuracy from its checkpoint, and bad input gets a clear error; on JapaneseVowels
with a tiny budget both architectures reach accuracy well above the majority class (that part
skips without ../shared/data)."""
import argparse
import csv
import math
import os
import random
import sys
import tempfile
from pycheck import check, done, failed, run



def write_problem(path, n, seed):
    """Two dimensions; class 'up' rises, 'down' falls, 'flat' stays; lengths 5..20; a few '?'."""
    rng = random.Random(seed)
    lines = ["# synthetic", "@problemName Slopes", "@timeStamps false", "@missing true", "@univariate false",
             "@dimensions 2", "@equalLength false", "@classLabel true up down flat", "@data"]
    for i in range(n):
        label = ["up", "down", "flat"][i % 3]
        slope = {"up": 1.0, "down": -1.0, "flat": 0.0}[label]
        L = rng.randint(5, 20)
        dims = []
        for k in range(2):
            vals = []
            for t in range(L):
                v = slope * t / L * (1 + k) + rng.gauss(0, 0.15) + 3.0
                vals.append("?" if rng.random() < 0.05 and 0 < t < L - 1 else f"{v:.4f}")
            dims.append(",".join(vals))
        lines.append(":".join(dims) + ":" + label)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def field(out, key):
    for line in out.splitlines():
        if line.startswith(key):
            return float(line.split()[len(key.split())])
    return math.nan


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aaren", required=True)
    a = ap.parse_args().aaren
    shared = os.environ.get("AAREN_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "Slopes"))
        tr, te = os.path.join(d, "Slopes", "Slopes_TRAIN.ts"), os.path.join(d, "Slopes", "Slopes_TEST.ts")
        write_problem(tr, 90, 1)
        write_problem(te, 60, 2)
        runs = os.path.join(d, "runs.csv")
        for arch in ("aaren", "transformer"):
            model = os.path.join(d, f"{arch}.safetensors")
            r = run([a, "classify", "--data", os.path.join(d, "Slopes"), "--arch", arch, "--d-model", "16",
                     "--n-heads", "2", "--d-ff", "32", "--epochs", "40", "--patience", "40", "--quiet",
                     "--save", model, "--results-csv", runs, "--confusion", os.path.join(d, f"cm_{arch}")])
            check(r.returncode == 0, f"{arch}: classify runs ({r.stderr.strip()[:300]})")
            acc = field(r.stdout, "test accuracy")
            check(acc >= 0.9, f"{arch}: synthetic slopes test accuracy {acc:.3f} >= 0.9 (chance 0.33)")
            check("confusion matrix" in r.stdout, f"{arch}: confusion matrix printed")
            with open(os.path.join(d, f"cm_{arch}.csv")) as f:
                cm = list(csv.reader(f))
            total = sum(int(v) for row in cm[1:] for v in row[1:])
            diag = sum(int(cm[i + 1][i + 1]) for i in range(3))
            check(total == 60 and abs(diag / total - acc) < 1e-3, f"{arch}: confusion CSV counts {total} cases, diagonal {diag}")
            preds = os.path.join(d, f"pred_{arch}.csv")
            r = run([a, "classify", "--model", model, "--predict", te, "--predictions", preds])
            check(r.returncode == 0, f"{arch}: predict from the checkpoint ({r.stderr.strip()[:200]})")
            acc2 = field(r.stdout, f"predicted 60 cases of {te}: accuracy")
            with open(preds) as f:
                rows = list(csv.DictReader(f))
            right = sum(row["label"] == row["predicted"] for row in rows)
            check(len(rows) == 60 and abs(right / 60 - acc) < 1e-9 and abs(acc2 - acc) < 1e-3,
                  f"{arch}: the checkpoint predicts the same accuracy ({right}/60 vs {acc:.4f})")
            probs = [[float(row[f"p_{k}"]) for k in ("up", "down", "flat")] for row in rows]
            check(all(abs(sum(p) - 1) < 1e-4 and max(p) == float(row["probability"]) and
                      ["up", "down", "flat"][p.index(max(p))] == row["predicted"] for p, row in zip(probs, rows)),
                  f"{arch}: every class's probability per case, summing to 1, the largest the predicted class's")
        with open(runs) as f:
            rows = list(csv.DictReader(f))
        check(len(rows) == 2 and rows[0]["n_train"] == "72" and rows[0]["n_val"] == "18",
              "results rows: stratified 20% validation split of 90 TRAIN cases (72 / 18)")
        # --select-on test (the library protocol): all of TRAIN trains, the epoch with the best TEST
        # accuracy is kept, and the TEST accuracy reported is that epoch's
        sel_runs = os.path.join(d, "sel.csv")
        r = run([a, "classify", "--data", os.path.join(d, "Slopes"), "--d-model", "16", "--n-heads", "2", "--d-ff", "32",
                 "--epochs", "6", "--patience", "6", "--lr", "3e-4", "--select-on", "test", "--results-csv", sel_runs])
        per_epoch = [float(l.split("TEST acc (selects)")[1].split()[0]) for l in r.stdout.splitlines()
                     if l.startswith("epoch") and "TEST acc (selects)" in l]
        acc = field(r.stdout, "test accuracy")
        with open(sel_runs) as f:
            row = next(csv.DictReader(f), {})
        check(r.returncode == 0 and len(per_epoch) == 6 and abs(acc - max(per_epoch)) < 1e-4,
              f"--select-on test keeps the epoch of the best TEST accuracy ({acc} vs {per_epoch})")
        check(row.get("n_train") == "90" and row.get("n_val") == "0" and row.get("select_on") == "test",
              f"--select-on test: all 90 TRAIN cases train, and the row says so ({row.get('n_train')}, {row.get('n_val')}, "
              f"{row.get('select_on')})")
        r = run([a, "classify", "--data", os.path.join(d, "Slopes"), "--select-on", "train"])
        check(r.returncode == 2 and "--select-on" in r.stderr, f"--select-on train is refused: {r.stderr.strip()}")
        # bad input
        bad = os.path.join(d, "bad_TRAIN.ts")
        with open(bad, "w") as f:
            f.write("@problemName bad\n@dimensions 2\n@classLabel true a b\n@data\n1,2:3,4:a\n1,2:3,x:b\n")
        r = run([a, "classify", "--train", bad, "--test", te])
        check(r.returncode == 1 and "bad_TRAIN.ts" in r.stderr and "line 6" in r.stderr, f"malformed .ts: {r.stderr.strip()}")
        r = run([a, "classify", "--train", tr, "--test", os.path.join(d, "none.ts")])
        check(r.returncode == 1 and "none.ts" in r.stderr, "a missing file is named")
        other = os.path.join(d, "other_TEST.ts")
        with open(other, "w") as f:
            f.write("@problemName o\n@dimensions 2\n@classLabel true up sideways\n@data\n1,2:3,4:sideways\n")
        r = run([a, "classify", "--train", tr, "--test", other])
        check(r.returncode == 1 and "sideways" in r.stderr, f"a TEST label unknown to TRAIN is named: {r.stderr.strip()}")
        r = run([a, "classify", "--model", os.path.join(d, "aaren.safetensors"), "--predict", bad])
        check(r.returncode == 1 and "bad_TRAIN.ts" in r.stderr, "predicting a malformed file fails with its name")
        jv = os.path.join(shared, "data", "classification", "JapaneseVowels")
        if not os.path.isdir(jv):
            print(f"test_classify: SKIPPED the JapaneseVowels run: {jv} not found (real data sets live in ../shared/data)")
            return 1 if failed() else 77
        for arch in ("aaren", "transformer"):
            r = run([a, "classify", "--data", jv, "--arch", arch, "--d-model", "32", "--n-heads", "2", "--d-ff", "64",
                     "--epochs", "8", "--patience", "8", "--quiet"])
            acc, maj = field(r.stdout, "test accuracy"), math.nan
            for line in r.stdout.splitlines():
                if "majority class:" in line:
                    maj = float(line.split("majority class:")[1].split(")")[0])
            check(r.returncode == 0 and acc > maj + 0.4,
                  f"{arch}: JapaneseVowels test accuracy {acc:.3f} well above the majority class {maj:.3f}")
    return done("test_classify")


if __name__ == "__main__":
    sys.exit(main())
