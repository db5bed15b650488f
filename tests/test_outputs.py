"""What the command-line tool writes, as a hostile or unlucky user meets it: names that would
run commands in a shell are only names (the plot helpers run without a shell); output paths
are checked before a run starts; a folder, a device or a link is never replaced; results
CSVs keep one header; a failed write leaves the previous file. Skips (77) without Debian's
python3 and numpy."""
import argparse
import os
import resource
import signal
import sys
import tempfile
import time

from pycheck import check, done, run, skip

sys.path.insert(0, os.path.dirname(__file__))
from test_classify import write_problem  # noqa: E402

try:
    import numpy as np
except ImportError as e:
    skip("test_outputs", f"{e} (use Debian's /usr/bin/python3 with python3-numpy)")

TINY = ["--d-model", "8", "--n-heads", "2", "--n-layers", "1", "--d-ff", "16"]


def write_series(path, n=400):
    """A TSLib-style CSV: a date column and two channels."""
    with open(path, "w") as f:
        f.write("date,a,OT\n")
        for i in range(n):
            f.write(f"2020-01-{1 + i // 24:02d} {i % 24:02d}:00:00,{np.sin(i / 5):.4f},{np.cos(i / 7):.4f}\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aaren", required=True)
    a = ap.parse_args().aaren
    with tempfile.TemporaryDirectory() as d:
        os.chdir(d)   # a command substitution would create its file here
        # 1. names with shell syntax are names
        series = os.path.join(d, "s.csv")
        write_series(series)
        plot = os.path.join(d, "p$(touch PWNED_PLOT)'\";touch PWNED_Q;'")
        r = run([a, "forecast", "--data", series, "--seq-len", "8", "--pred-len", "4", "--epochs", "1",
                 "--steps-per-epoch", "2", "--quiet", "--plot", plot, *TINY])
        check(r.returncode == 0 and os.path.exists(plot + ".csv"), f"forecast --plot with shell syntax in the name "
              f"writes that file ({r.stderr.strip()[:200]})")
        check(not any(n.startswith("PWNED") for n in os.listdir(d)), "forecast --plot: no command ran")
        folder = os.path.join(d, "j$(touch PWNED_DIR)")
        os.makedirs(folder)
        base = os.path.basename(folder)
        write_problem(os.path.join(folder, f"{base}_TRAIN.ts"), 30, 1)
        write_problem(os.path.join(folder, f"{base}_TEST.ts"), 15, 2)
        conf = os.path.join(d, "c$(touch PWNED_CONF)")
        r = run([a, "classify", "--data", folder, "--epochs", "1", "--quiet", "--confusion", conf, *TINY])
        check(r.returncode == 0 and os.path.exists(conf + ".csv"), f"classify: a data folder and --confusion with "
              f"shell syntax ({r.stderr.strip()[:200]})")
        check(not any(n.startswith("PWNED") for n in os.listdir(d)), "classify: no command ran")

        # 2. a bad output path is found before the run, not after it
        for cmd in (["train", "--steps", "200000", "--save", os.path.join(d, "no", "such", "run.safetensors")],
                    ["forecast", "--data", series, "--epochs", "50", "--results-csv", os.path.join(d, "no", "r.csv")],
                    ["classify", "--data", folder, "--epochs", "50", "--predictions", d]):
            t0 = time.monotonic()
            r = run([a, *cmd])
            check(r.returncode == 1 and "checked before starting" in r.stderr and time.monotonic() - t0 < 5,
                  f"{cmd[0]}: a bad output path fails at once ({r.stderr.strip()[:160]})")

        # 3. never replace what is not a regular file; the previous file survives a failed write
        model = os.path.join(d, "m.safetensors")
        r = run([a, "init", "--arch", "aaren", *TINY, "--output", model])
        check(r.returncode == 0, f"init writes a model ({r.stderr.strip()[:160]})")
        x = os.path.join(d, "x.npy")
        np.save(x, np.random.default_rng(1).standard_normal((6, 8)).astype(np.float32))
        for target, what in ((d, "a folder"), ("/dev/null", "a device")):
            r = run([a, "encode", "--model", model, "--input", x, "--output", target])
            check(r.returncode == 1 and what in r.stderr, f"encode --output {what}: {r.stderr.strip()[:160]}")
        os.symlink(model, os.path.join(d, "link.npy"))
        r = run([a, "encode", "--model", model, "--input", x, "--output", os.path.join(d, "link.npy")])
        check(r.returncode == 1 and "symbolic link" in r.stderr and os.path.getsize(model) > 0,
              f"encode --output a link: {r.stderr.strip()[:160]}")
        check(os.path.isdir(d) and os.path.exists("/dev/null"), "the folder and the device are still there")
        before = open(model, "rb").read()
        big = ["--d-model", "256", "--n-heads", "4", "--n-layers", "4", "--d-ff", "1024"]

        def small_files():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, resource.RLIM_INFINITY))

        import subprocess
        r = subprocess.run([a, "init", "--arch", "aaren", *big, "--output", model], capture_output=True, text=True,
                           preexec_fn=small_files)
        check(r.returncode == 1 and "m.safetensors" in r.stderr and open(model, "rb").read() == before,
              f"a write that fails part way leaves the previous checkpoint: {r.stderr.strip()[:200]}")
        check(sorted(n for n in os.listdir(d) if n.startswith(".m.safetensors")) == [], "no temporary is left behind")

        # 4. results CSVs: one header, one row per run
        runs = os.path.join(d, "runs.csv")
        for seed in ("1", "2"):
            r = run([a, "forecast", "--data", series, "--seq-len", "8", "--pred-len", "4", "--epochs", "1",
                     "--steps-per-epoch", "2", "--quiet", "--seed", seed, "--results-csv", runs, *TINY])
        lines = open(runs).read().splitlines()
        check(len(lines) == 3 and lines[0].startswith("data,") and not lines[2].startswith("data,"),
              f"results CSV: a header and two rows ({len(lines)} lines)")
    return done("test_outputs")


if __name__ == "__main__":
    sys.exit(main())
