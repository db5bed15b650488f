"""`aaren forecast` end to end on ETTh1 with a tiny budget: both architectures beat
repeating the last value on test MSE; bad input gets a clear error. Skips (77) without
../shared/data."""
import argparse
import csv
import os
import subprocess
import sys
import tempfile
from pycheck import check, done, failed



def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aaren", required=True)
    a = ap.parse_args().aaren
    shared = os.environ.get("AAREN_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
    data = os.path.join(shared, "data", "forecasting", "ETTh1", "ETTh1.csv")
    with tempfile.TemporaryDirectory() as d:
        bad = os.path.join(d, "bad.csv")
        with open(bad, "w") as f:
            f.write("date,a,OT\n2020-01-01 00:00:00,1,2\n2020-01-01 01:00:00,x,3\n")
        r = subprocess.run([a, "forecast", "--data", bad], capture_output=True, text=True)
        check(r.returncode == 1 and "bad.csv" in r.stderr and "line 3" in r.stderr, f"malformed CSV: {r.stderr.strip()}")
        r = subprocess.run([a, "forecast", "--data", os.path.join(d, "none.csv")], capture_output=True, text=True)
        check(r.returncode == 1 and "none.csv" in r.stderr, "missing file is named")
        if not os.path.exists(data):
            print(f"test_forecast: SKIPPED the ETTh1 run: {data} not found (real data sets live in ../shared/data)")
            return 1 if failed() else 77
        r = subprocess.run([a, "forecast", "--data", data, "--features", "S", "--target", "nope"], capture_output=True, text=True)
        check(r.returncode == 1 and "nope" in r.stderr, "a missing target column is named")
        runs = os.path.join(d, "runs.csv")
        for arch in ("aaren", "transformer"):
            r = subprocess.run([a, "forecast", "--data", data, "--arch", arch, "--pred-len", "24", "--d-model", "32",
                                "--n-heads", "2", "--epochs", "2", "--steps-per-epoch", "40", "--quiet",
                                "--results-csv", runs], capture_output=True, text=True)
            check(r.returncode == 0, f"{arch}: forecast runs ({r.stderr.strip()[:200]})")
        with open(runs) as f:
            rows = list(csv.DictReader(f))
        check(len(rows) == 2, "one results row per run")
        for row in rows:
            mse, naive = float(row["test_mse"]), float(row["naive_mse"])
            check(mse < naive, f"{row['arch']}: test MSE {mse:.4f} beats repeating the last value {naive:.4f}")
        # the main job's forecasting demo with a tiny budget: both streamed forecasts equal the parallel ones
        out = os.path.join(d, "demo")
        r = subprocess.run([a, "demo", "--data", data, "--epochs", "1", "--steps-per-epoch", "10", "--out", out],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"demo --data runs ({r.stderr.strip()[:200]})")
        rows = {l.split()[0]: l.split() for l in r.stdout.splitlines() if l.split()[:1] in (["aaren"], ["transformer"])}
        for arch in ("aaren", "transformer"):
            row = rows.get(arch)
            diff = float(row[-1]) if row else float("nan")
            check(diff < 1e-4, f"demo: {arch} streamed forecast equals the parallel one (max diff {diff:.2e})")
            check(os.path.exists(os.path.join(out, f"forecast_{arch}.csv")), f"demo: forecast_{arch}.csv written")
        if rows.get("aaren") and rows.get("transformer"):
            check(int(rows["aaren"][-2]) < int(rows["transformer"][-2]),
                  "demo: Aaren's stream state is smaller than the Transformer's KV cache after a window")
    return done("test_forecast")


if __name__ == "__main__":
    sys.exit(main())
