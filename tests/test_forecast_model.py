"""A saved forecaster forecasts new data: `aaren forecast --model F --input RECENT.csv` on the
rows that end where a test window's lookback ends gives that window's forecast from the training
run (to print precision), in the file's units, dated on at the data's step; --scaled gives the
scaled values; --save-preds writes pred.npy / true.npy whose MSE is the test MSE the run printed;
a file with other columns or too few rows is refused, naming it. Skips (77) without numpy."""
import argparse
import csv
import os
import sys
import tempfile

from pycheck import check, done, run, skip

sys.path.insert(0, os.path.dirname(__file__))
from test_outputs import write_series  # noqa: E402

try:
    import numpy as np
except ImportError as e:
    skip("test_forecast_model", f"{e} (use Debian's /usr/bin/python3 with python3-numpy)")

L, H, N = 8, 4, 400
TINY = ["--d-model", "8", "--n-heads", "2", "--n-layers", "1", "--d-ff", "16", "--quiet"]


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aaren", required=True)
    a = ap.parse_args().aaren
    with tempfile.TemporaryDirectory() as d:
        series = os.path.join(d, "s.csv")
        write_series(series, N)
        rows = read_csv(series)
        for recipe in (PAPER, PATCH):
            model, recent, out = trained(a, d, series, rows, recipe)
            if not model:
                return done("test_forecast_model")
        refusals(a, d, series, rows, model, recent, out)
    return done("test_forecast_model")


PAPER = []
PATCH = ["--recipe", "patch", "--patch-len", "4", "--stride", "2"]


def trained(a, d, series, rows, recipe):
    """Trains with --save, --plot, --save-preds; the saved model forecasts the plotted window
    again from a CSV; returns (model, recent, out) or (None, ..) when training failed."""
    tag = "patch recipe" if recipe else "paper recipe"
    k = len(recipe)   # one set of files per recipe
    model, plot, preds = (os.path.join(d, n) for n in (f"m{k}.safetensors", f"p{k}", f"preds{k}"))
    window = 5
    r = run([a, "forecast", "--data", series, "--seq-len", str(L), "--pred-len", str(H), "--epochs", "2", "--seed", "3",
             "--save", model, "--plot", plot, "--window", str(window), "--save-preds", preds, *TINY, *recipe])
    check(r.returncode == 0, f"{tag}: training with --save, --plot and --save-preds ({r.stderr.strip()[:200]})")
    if r.returncode:
        return None, None, None
    # the RATIO split of N rows: test windows start at row N - int(N * 0.2) - L
    start = N - int(N * 0.2) - L + window
    recent = os.path.join(d, "recent.csv")
    with open(recent, "w", newline="") as f:
        csv.writer(f).writerows([rows[0]] + rows[1 + start - 30:1 + start + L])   # 30 rows more before
    out = os.path.join(d, "fc.csv")
    r = run([a, "forecast", "--model", model, "--input", recent, "--output", out])
    check(r.returncode == 0, f"forecast --model ({r.stderr.strip()[:200]})")
    fc = read_csv(out)
    want = [row[2:] for row in read_csv(plot + ".csv") if row[1] == "forecast"]
    got = [row[1:] for row in fc[1:]]
    close = len(got) == H and all(abs(float(x) - float(y)) <= 1e-4 * max(1.0, abs(float(y)))
                                  for gr, wr in zip(got, want) for x, y in zip(gr, wr))
    check(fc[0] == ["date"] + rows[0][1:] and close,
          f"{tag}: the forecast equals the training run's forecast of test window {window} ({got[:1]} vs {want[:1]})")
    last = rows[start + L][0]   # the input's last date
    check([row[0] for row in fc[1:3]] == [_next_hour(last, 1), _next_hour(last, 2)],
          f"{tag}: dates go on hourly after {last}: {[row[0] for row in fc[1:3]]}")
    r = run([a, "forecast", "--model", model, "--input", recent, "--output", out, "--scaled"])
    scaled = np.array([[float(x) for x in row[1:]] for row in read_csv(out)[1:]])
    raw = np.array([[float(x) for x in row] for row in got])
    train = np.array([[float(x) for x in row[1:]] for row in rows[1:1 + int(N * 0.7)]])
    check(r.returncode == 0 and np.allclose(scaled * train.std(axis=0) + train.mean(axis=0), raw, atol=1e-4),
          f"{tag}: --scaled gives the values in the training rows' standard scale")
    # --save-preds: TSLib's layout, and its MSE is the printed test MSE
    pred, true = np.load(os.path.join(preds, "pred.npy")), np.load(os.path.join(preds, "true.npy"))
    n_test = int(N * 0.2) + L - L - H + 1
    metrics = next(csv.DictReader(open(os.path.join(preds, "metrics.csv"))))
    printed = [l for l in run([a, "forecast", "--data", series, "--seq-len", str(L), "--pred-len", str(H),
                               "--epochs", "2", "--seed", "3", *TINY, *recipe]).stdout.splitlines() if l.startswith("test MSE")]
    mse = float(printed[0].split()[2]) if printed else float("nan")
    check(pred.shape == true.shape == (n_test, H, 2) and abs(float(metrics["mse"]) - ((pred - true) ** 2).mean()) < 1e-6
          and abs(float(metrics["mse"]) - mse) < 1e-4,
          f"{tag}: --save-preds: pred/true {pred.shape}, metrics mse {metrics['mse']} = printed test MSE {mse}")
    return model, recent, out


def refusals(a, d, series, rows, model, recent, out):
    # refusals
    bad = os.path.join(d, "bad.csv")
    with open(bad, "w", newline="") as f:
        csv.writer(f).writerows([["date", "a", "other"]] + [r_[:3] for r_ in rows[1:20]])
    r = run([a, "forecast", "--model", model, "--input", bad, "--output", out])
    check(r.returncode == 1 and "bad.csv" in r.stderr and "differ from the model's" in r.stderr,
          f"other columns: {r.stderr.strip()}")
    with open(bad, "w", newline="") as f:
        csv.writer(f).writerows([rows[0]] + rows[1:1 + L - 1])
    r = run([a, "forecast", "--model", model, "--input", bad, "--output", out])
    check(r.returncode == 1 and "bad.csv" in r.stderr and "seq_len" in r.stderr, f"too few rows: {r.stderr.strip()}")
    r = run([a, "init", "--arch", "aaren", "--d-model", "8", "--n-heads", "2", "--n-layers", "1", "--d-ff", "16",
             "--output", os.path.join(d, "enc.safetensors")])
    r = run([a, "forecast", "--model", os.path.join(d, "enc.safetensors"), "--input", recent, "--output", out])
    check(r.returncode == 1 and "enc.safetensors" in r.stderr and "forecast" in r.stderr,
          f"an encoder checkpoint is not a forecaster: {r.stderr.strip()}")
    r = run([a, "forecast", "--data", series, "--seq-len", str(L), "--pred-len", str(H), "--calendar", *TINY, *PATCH])
    check(r.returncode == 1 and "calendar" in r.stderr, f"the patch recipe refuses --calendar: {r.stderr.strip()}")
    r = run([a, "forecast", "--data", series, "--seq-len", str(L), "--recipe", "patches", *TINY])
    check(r.returncode == 2 and "--recipe" in r.stderr, f"an unknown recipe: {r.stderr.strip()}")
    r = run([a, "forecast", "--data", series, "--seq-len", str(L), "--pred-len", str(H), *TINY, *PATCH[:2],
             "--patch-len", str(L + 1)])
    check(r.returncode == 1 and "patch length" in r.stderr, f"patches longer than the lookback: {r.stderr.strip()}")


def _next_hour(date, k):
    import datetime
    t = datetime.datetime.strptime(date, "%Y-%m-%d %H:%M:%S") + datetime.timedelta(hours=k)
    return t.strftime("%Y-%m-%d %H:%M:%S")


if __name__ == "__main__":
    sys.exit(main())
