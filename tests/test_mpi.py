"""Data-parallel training over MPI (mpirun on this machine, loopback): with
--deterministic-reduce, P ranks end bit for bit where one process ends with the same
--grad-shards (2 ranks on the synthetic task, 3 ranks on forecasting with a batch of 16 that
3 does not divide); with the MPI library's all-reduce they agree to float32 rounding; a run
stopped on 2 ranks resumes on 2 ranks to the same end; rank 0 alone writes the results row.
Skips (77) without an MPI build, mpirun or numpy."""
import argparse
import csv
import os
import shutil
import sys
import tempfile

from pycheck import check, done, run, skip

sys.path.insert(0, os.path.dirname(__file__))
from test_outputs import write_series  # noqa: E402

try:
    import numpy as np
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
    import aaren_twin
except ImportError as e:
    skip("test_mpi", f"{e} (use Debian's /usr/bin/python3 with numpy and torch)")

# Open MPI refuses root without these; its own allocations are not ours to leak-check
ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "OMPI_MCA_btl": "self,tcp",
       "OMPI_MCA_btl_tcp_if_include": "lo", "OMPI_MCA_oob_tcp_if_include": "lo",
       "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0"}
TINY = ["--d-model", "8", "--n-heads", "2", "--n-layers", "1", "--d-ff", "16", "--dropout", "0.1", "--quiet"]


def tensors(path):
    t, _ = aaren_twin.load_safetensors(path)
    return t


def same(a, b):
    ta, tb = tensors(a), tensors(b)
    return set(ta) == set(tb) and all(np.array_equal(ta[k], tb[k]) for k in ta)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aaren", required=True)
    a = ap.parse_args().aaren
    v = run([a, "--version"])
    if "mpi: yes" not in v.stdout:
        skip("test_mpi", "this build has no MPI (libopenmpi-dev)")
    mpirun = shutil.which("mpirun")
    if not mpirun:
        skip("test_mpi", "mpirun not found (openmpi-bin)")

    def mpi(n, args):
        return run([mpirun, "--oversubscribe", "-np", str(n), a, "--threads", "1", *args], env=ENV)

    with tempfile.TemporaryDirectory() as d:
        one, two = os.path.join(d, "one.safetensors"), os.path.join(d, "two.safetensors")
        train = ["train", "--steps", "12", "--batch", "8", "--tokens", "16", "--grad-shards", "2", "--deterministic-reduce",
                 *TINY]
        r1 = run([a, "--threads", "1", *train, "--save", one], env=ENV)
        r2 = mpi(2, [*train, "--save", two])
        check(r1.returncode == 0 and r2.returncode == 0 and same(one, two),
              f"train: 2 ranks equal one process with 2 shards, bit for bit ({r2.stderr.strip()[:300]})")
        check(r2.stdout.count("test MSE") == 1, "only rank 0 prints")

        series = os.path.join(d, "s.csv")
        write_series(series)
        base = ["forecast", "--data", series, "--seq-len", "8", "--pred-len", "4", "--epochs", "2", "--batch", "16", *TINY]
        fc = [*base, "--grad-shards", "3"]
        fc2 = [*base, "--grad-shards", "2", "--deterministic-reduce"]
        f1, f3, f3r = (os.path.join(d, f"{x}.safetensors") for x in ("f1", "f3", "f3r"))
        runs = os.path.join(d, "runs.csv")
        r1 = run([a, "--threads", "1", *fc, "--deterministic-reduce", "--save", f1], env=ENV)
        r3 = mpi(3, [*fc, "--deterministic-reduce", "--save", f3, "--results-csv", runs])
        check(r1.returncode == 0 and r3.returncode == 0 and same(f1, f3),
              f"forecast: 3 ranks (batch 16 in shards of 5, 5, 6) equal one process, bit for bit ({r3.stderr.strip()[:300]})")
        check(len(list(csv.DictReader(open(runs)))) == 1, "forecast: one results row, from rank 0")
        r = mpi(3, [*fc, "--save", f3r])
        t1, t3 = tensors(f1), tensors(f3r)
        worst = max(float(np.abs(t1[k] - t3[k]).max() / (np.abs(t1[k]).max() + 1e-12)) for k in t1 if t1[k].size)
        check(r.returncode == 0 and worst < 1e-4,
              f"forecast: the MPI library's all-reduce agrees to float32 rounding (worst relative {worst:.2e})")
        part = os.path.join(d, "part.safetensors")
        r = mpi(2, [*fc2, "--save", part, "--stop-after", "5"])
        r = mpi(2, [*fc2, "--save", part, "--resume", part])
        whole = os.path.join(d, "whole.safetensors")
        r1 = mpi(2, [*fc2, "--save", whole])
        check(r.returncode == 0 and r1.returncode == 0 and same(part, whole),
              f"forecast: stopped and resumed on 2 ranks ends where the whole run ends ({r.stderr.strip()[:300]})")
        r = mpi(2, ["train", "--steps", "4", "--batch", "8", "--grad-shards", "3", *TINY])
        check(r.returncode == 1 and "multiple of the ranks" in r.stderr, f"3 shards on 2 ranks: {r.stderr.strip()[:200]}")
    return done("test_mpi")


if __name__ == "__main__":
    sys.exit(main())
