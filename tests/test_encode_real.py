"""`aaren encode` in its three modes agrees on real data: the first 2,000 hours of ETTh1
(7 columns, z-scored) as tokens of width 7, through an Aaren and a Transformer encoder
written by `aaren init`. Skips (exit 77) when ../shared/data is absent."""
import argparse
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    print("test_encode_real: SKIPPED: numpy is not importable (use Debian's /usr/bin/python3)")
    sys.exit(77)

TOL = 2e-5  # max |a - b| / max |b|: float32 rounding through 2 layers, as in test_twin


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aaren", required=True)
    args = ap.parse_args()
    shared = os.environ.get("AAREN_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
    csv = os.path.join(shared, "data", "forecasting", "ETTh1", "ETTh1.csv")
    if not os.path.exists(csv):
        print(f"test_encode_real: SKIPPED: {csv} not found (real data sets live in ../shared/data)")
        return 77
    data = np.genfromtxt(csv, delimiter=",", skip_header=1, usecols=range(1, 8), max_rows=2000)
    data = ((data - data.mean(0)) / data.std(0)).astype(np.float32)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        x = os.path.join(tmp, "x.npy")
        np.save(x, data)
        for arch in ("aaren", "transformer"):
            model = os.path.join(tmp, f"{arch}.safetensors")
            subprocess.run([args.aaren, "init", "--arch", arch, "--d-model", "7", "--n-heads", "1",
                            "--n-layers", "2", "--d-ff", "16", "--seed", "3", "--output", model],
                           check=True, stdout=subprocess.DEVNULL)
            ys = {}
            for mode in ("naive", "scan", "stream"):
                y = os.path.join(tmp, f"y_{arch}_{mode}.npy")
                subprocess.run([args.aaren, "encode", "--model", model, "--input", x, "--output", y,
                                "--mode", mode], check=True)
                ys[mode] = np.load(y).astype(np.float64)
            ref = ys["naive"]
            assert ref.shape == data.shape
            for mode in ("scan", "stream"):
                err = np.abs(ys[mode] - ref).max() / np.abs(ref).max()
                ok = err <= TOL and np.isfinite(ys[mode]).all()
                failures += not ok
                print(f"{'ok  ' if ok else 'FAIL'} ETTh1 {arch:11s} {mode:6s} vs naive: rel err {err:.2e}")
    print(f"test_encode_real: {'FAILED' if failures else 'passed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
