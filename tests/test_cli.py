"""The command-line tool as a user meets it: every command's --help, training with a
checkpoint and an exact resume, info on a trained file, and usage errors."""
import argparse
import os
import sys
import tempfile
from pycheck import check, done, run

try:
    import numpy as np
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
    import aaren_twin
except ImportError as e:
    print(f"test_cli: SKIPPED: {e} (use Debian's /usr/bin/python3 with numpy)")
    sys.exit(77)



def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aaren", required=True)
    a = ap.parse_args().aaren
    for cmd in ["", "demo", "init", "train", "encode", "grad", "info", "forecast", "classify", "events", "rl", "bench"]:
        r = run([a] + ([cmd] if cmd else []) + ["--help"])
        check(r.returncode == 0 and "usage" in r.stdout, f"aaren {cmd} --help")
    r = run([a, "rl", "eval-policy", "--env", "hopper", "--xml-dir", "/nonexistent"])
    check(r.returncode == 1 and ("/nonexistent/hopper.xml" in r.stderr or "no MuJoCo" in r.stderr),
          f"rl: a missing model folder (or a build without MuJoCo) is named: {r.stderr.strip()}")
    for sub in ["make-data", "eval-policy", "info", "train", "eval"]:
        r = run([a, "rl", sub, "--help"])
        check(r.returncode == 0 and "usage" in r.stdout, f"aaren rl {sub} --help")
    for sub, opt in (("train", "--data"), ("eval", "--model"), ("info", "--data")):
        r = run([a, "rl", sub, opt, "/nonexistent/x.hdf5"])
        check(r.returncode == 1 and "/nonexistent/x.hdf5" in r.stderr, f"rl {sub}: a missing file is named: {r.stderr.strip()}")
    r = run([a, "rl", "train", "--data", "x.hdf5", "--K", "0"])
    check(r.returncode == 2 and "--K" in r.stderr, f"rl train: a bad --K is a usage error: {r.stderr.strip()}")
    r = run([a, "rl", "eval", "--model", "x", "--mode", "sideways"])
    check(r.returncode == 2 and "sideways" in r.stderr, f"rl eval: a bad --mode is a usage error: {r.stderr.strip()}")
    r = run([a, "rl", "eval-policy", "--env", "cartpole"])
    check(r.returncode == 2 and "cartpole" in r.stderr, "rl: an unknown environment is a usage error naming it")
    r = run([a, "train", "--steps", "x"])
    check(r.returncode == 2 and "--steps" in r.stderr, "a bad option value is a usage error naming it")
    r = run([a, "train", "--resume", "/nonexistent.safetensors", "--steps", "2"])
    check(r.returncode == 1 and "/nonexistent.safetensors" in r.stderr, "a missing checkpoint is named")
    with tempfile.TemporaryDirectory() as d:
        common = ["train", "--d-model", "8", "--n-heads", "2", "--n-layers", "1", "--d-ff", "16",
                  "--batch", "4", "--tokens", "16", "--dropout", "0.1", "--seed", "3"]
        full = os.path.join(d, "full.safetensors")
        r = run([a] + common + ["--steps", "20", "--save", full])
        check(r.returncode == 0 and "test MSE" in r.stdout, "train runs and reports test MSE")
        check("step     20/20" in r.stdout and "tokens/s" in r.stdout and "eta" in r.stdout,
              "progress lines show step, tokens/s and ETA")
        # the same run in two shards: 9 steps, then the rest
        nine = os.path.join(d, "nine.safetensors")
        r = run([a] + common + ["--steps", "20", "--stop-after", "9", "--save", nine])
        check(r.returncode == 0, "a first shard of 9 steps")
        t_full, _ = aaren_twin.load_safetensors(full)
        t_nine, meta = aaren_twin.load_safetensors(nine)
        check(meta.get("fit.step") == "9", f"the shard's checkpoint is at step 9 (got {meta.get('fit.step')})")
        resumed = os.path.join(d, "resumed.safetensors")
        r = run([a] + common + ["--steps", "20", "--resume", nine, "--save", resumed])
        check(r.returncode == 0 and "resumed" in r.stdout, "resume runs")
        t_res, _ = aaren_twin.load_safetensors(resumed)
        same = set(t_res) == set(t_full) and all(np.array_equal(t_res[k], t_full[k]) for k in t_full)
        check(same, "a run resumed at step 9 ends bit for bit where the uninterrupted run ends")
        r = run([a, "info", full])
        check(r.returncode == 0 and "aaren" in r.stdout and "stream state" in r.stdout, "info reads a trained file")
    return done("test_cli")


if __name__ == "__main__":
    sys.exit(main())
