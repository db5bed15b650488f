#!/usr/bin/env python3
"""Quick start with the aaren Python package: a classifier on a UEA data set (train, save,
load, predict), a forecaster on an ETT file (train, then forecast as new rows arrive), and an
encoder streamed one token at a time.

    /usr/bin/python3 examples/quickstart.py                   # data from ../shared/data
    /usr/bin/python3 examples/quickstart.py --data DIR --epochs 5 --out OUT_DIR

Needs the library (cmake --install, or a build folder with AAREN_LIBRARY=build/libaaren.so)
and the package (pip install ./python, or PYTHONPATH=python)."""
import argparse
import os
import sys
import tempfile
import time

import numpy as np

import aaren

here = os.path.dirname(os.path.abspath(__file__))
default_data = os.path.join(os.environ.get("AAREN_SHARED", os.path.join(here, "..", "..", "shared")), "data")
ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--data", default=default_data, help="the data folder (classification/, forecasting/) [%(default)s]")
ap.add_argument("--epochs", type=int, default=20, help="classifier epochs [%(default)s]")
ap.add_argument("--out", default=None, help="folder for the saved models [a temporary one]")
ap.add_argument("--quick", action="store_true", help="a smaller run (4 classifier epochs, a short forecaster run)")
args = ap.parse_args()
if args.quick:
    args.epochs = 4

uea = os.path.join(args.data, "classification", "JapaneseVowels")
ett = os.path.join(args.data, "forecasting", "ETTh1", "ETTh1.csv")
for p in (uea, ett):
    if not os.path.exists(p):
        sys.exit(f"quickstart: {p} not found: give --data (the layout of ../shared/data; scripts/fetch_data.sh makes it)")
out = args.out or tempfile.mkdtemp(prefix="aaren-quickstart-")
os.makedirs(out, exist_ok=True)
print(f"aaren {aaren.version()}")

# ---- 1. classification: cases [n_channels, n_timepoints] of unequal lengths, aeon's layout
X_train, y_train = aaren.read_ts(os.path.join(uea, "JapaneseVowels_TRAIN.ts"))
X_test, y_test = aaren.read_ts(os.path.join(uea, "JapaneseVowels_TEST.ts"))
print(f"JapaneseVowels: {len(X_train)} training cases, {len(X_test)} test cases, {X_train[0].shape[0]} channels")
t = time.time()
clf = aaren.AarenClassifier(d_model=32, n_heads=4, n_layers=2, d_ff=64, epochs=args.epochs, patience=5, seed=1)
clf.fit(X_train, y_train)
print(f"trained in {time.time() - t:.1f} s: {clf.epochs_run_} epochs, best {clf.best_epoch_}, "
      f"validation accuracy {clf.val_score_:.3f}")
path = os.path.join(out, "vowels.safetensors")
clf.save(path)                                        # `aaren classify --model` reads it too
clf2 = aaren.AarenClassifier.load(path)
acc = clf2.score(X_test, y_test)
print(f"test accuracy {acc:.3f} (majority class {np.mean(y_test == max(set(y_test), key=list(y_test).count)):.3f})")
print(f"first test case: true {y_test[0]}, predicted {clf2.predict(X_test[:1])[0]}, "
      f"p = {clf2.predict_proba(X_test[:1]).max():.3f}")

# ---- 2. forecasting: train on the first 4000 hours of ETTh1, forecast as new rows arrive
rows = np.loadtxt(ett, delimiter=",", skiprows=1, usecols=range(1, 8))
with open(ett) as f:
    columns = f.readline().strip().split(",")[1:]
n_fit = 1500 if args.quick else 4000
series = rows[:n_fit]
t = time.time()
fc = aaren.AarenForecaster(lookback=96, horizon=24, columns=columns, d_model=32, n_heads=4, n_layers=2, d_ff=64,
                           epochs=1 if args.quick else 3, steps_per_epoch=10 if args.quick else 40, seed=1)
fc.fit(series)
print(f"forecaster trained in {time.time() - t:.1f} s: validation MSE {fc.val_score_:.3f} (standardised units)")
fc.save(os.path.join(out, "etth1.safetensors"))       # `aaren forecast --model` reads it too
errs, naive = [], []
for now in range(n_fit, n_fit + 24 * 5, 24):          # a new day of rows arrives: forecast the next one
    pred = fc.predict(rows[now - 96:now])             # [24, 7] in the file's units
    truth = rows[now:now + 24]
    errs.append(np.mean((pred - truth) ** 2))
    naive.append(np.mean((rows[now - 1] - truth) ** 2))
print(f"5 rolling day-ahead forecasts: MSE {np.mean(errs):.3f} (repeating the last row: {np.mean(naive):.3f})")

# ---- 3. streaming: an encoder one token at a time, in constant memory, equals the parallel scan
m = aaren.Model.init(d_model=32, n_heads=4, n_layers=2, d_ff=64, seed=3)
x = np.random.default_rng(0).standard_normal((200, 32)).astype(np.float32)
with aaren.Stream(m) as s:
    ys = np.stack([s.step(tok) for tok in x])
    print(f"streamed 200 tokens, state {s.state_bytes()} bytes; largest difference from the scan "
          f"{np.abs(ys - m.encode(x)).max():.2e}")
print(f"models in {out}")
