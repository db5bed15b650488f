"""Data-parallel training over MPI (mpirun on this machine, loopback): with
--deterministic-reduce, P ranks end bit for bit where one process ends with the same
--grad-shards (2 ranks on the synthetic task, 3 ranks on forecasting with a batch of 16 that
3 does not divide); with the MPI library's all-reduce they agree to float32 rounding; a run
stopped on 2 ranks resumes on 2 ranks to the same end; rank 0 alone writes the results row.
Validation and test evaluation, split across the ranks and reduced, give one process's
figures exactly on 2 and 3 ranks (splits whose batches the ranks do not divide evenly) for
forecast, classify, events, train and rl train. The events loss weighs shards by their
predicted events: a sharded batch has the one-piece loss and gradient norm.
Faults: a bad data file on rank 1 alone (mpirun's colon syntax gives each rank its own
arguments) ends the job non-zero with the rank named, not a hang; rank 1 killed by SIGKILL
mid-run ends the job the same way, and its last checkpoint resumes on 2 ranks and on one
process to the uninterrupted run's parameters, bit for bit.
Skips (77) without an MPI build, mpirun or numpy."""
import argparse
import csv
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from pycheck import check, done, run, skip

sys.path.insert(0, os.path.dirname(__file__))
from test_outputs import write_series  # noqa: E402
from test_classify import write_problem  # noqa: E402

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


def tensors_meta(path):
    return aaren_twin.load_safetensors(path)[1]


def same(a, b):
    ta, tb = tensors(a), tensors(b)
    return set(ta) == set(tb) and all(np.array_equal(ta[k], tb[k]) for k in ta)


def evals(path):
    """The log's evaluation rows (step, epoch, metric, value as written: 17 digits)."""
    with open(path) as f:
        return [(r[1], r[2], r[8], r[9]) for r in csv.reader(f) if r and r[0] == "eval"]


def steps(path):
    """The log's training rows of the first epoch: (loss, gradient norm) of each step (a sharded
    run draws one more random number a step, so later epochs shuffle otherwise)."""
    with open(path) as f:
        return [(float(r[3]), float(r[5])) for r in csv.reader(f) if r and r[0] == "train" and r[2] == "1"]


def figures(out, keys):
    """The lines of a run's output that start with one of keys, without durations."""
    return [re.sub(r"[\d.]+ s\b|train_s=\S+|step_us=\S+", "", l) for l in out.splitlines() if l.startswith(keys)]


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
        try:   # a hung collective fails the test instead of holding it
            return subprocess.run([mpirun, "--oversubscribe", "-np", str(n), a, "--threads", "1", *args],
                                  capture_output=True, text=True, env=dict(os.environ, **ENV), timeout=120)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(args, 124, "", f"mpirun -np {n} timed out")

    def solo(args):
        return run([a, "--threads", "1", *args], env=ENV)

    def rank_pid(marker, rank):
        """The pid of the aaren process of this rank whose command line holds marker, or None."""
        for p in os.listdir("/proc"):
            try:
                with open(f"/proc/{p}/cmdline", "rb") as f:
                    cmd = f.read().split(b"\0")
                with open(f"/proc/{p}/environ", "rb") as f:
                    env = f.read().split(b"\0")
            except (OSError, ValueError):
                continue
            if os.path.basename(cmd[0]) == b"aaren" and marker.encode() in cmd and \
                    f"OMPI_COMM_WORLD_RANK={rank}".encode() in env:
                return int(p)
        return None

    def faults(d):
        # (a) rank 1 alone is given a file it cannot read: the job ends, non-zero, naming rank 1
        series = os.path.join(d, "fault.csv")
        write_series(series)
        fc = ["forecast", "--seq-len", "8", "--pred-len", "4", "--epochs", "2", "--batch", "16", *TINY]
        missing = os.path.join(d, "missing.csv")
        try:
            r = subprocess.run([mpirun, "--oversubscribe", "-np", "1", a, "--threads", "1", *fc, "--data", series, ":",
                                "-np", "1", a, "--threads", "1", *fc, "--data", missing],
                               capture_output=True, text=True, env=dict(os.environ, **ENV), timeout=120)
        except subprocess.TimeoutExpired:
            r = subprocess.CompletedProcess([], 124, "", "timed out: a rank was left waiting")
        check(r.returncode not in (0, 124) and "rank 1 of 2 failed" in r.stderr and "missing.csv" in r.stderr,
              f"a bad file on rank 1 alone ends the job (exit {r.returncode}), naming the rank and the file: "
              f"{[l for l in r.stderr.splitlines() if 'rank 1' in l or 'missing' in l][:2]}")

        # (b) rank 1 killed mid-run; the last checkpoint resumes on 2 ranks and on 1 to the uninterrupted end
        ck, whole = os.path.join(d, "killed.safetensors"), os.path.join(d, "uninterrupted.safetensors")
        tr = ["train", "--steps", "600", "--batch", "8", "--tokens", "64", "--grad-shards", "2", "--deterministic-reduce",
              *TINY]
        p = subprocess.Popen([mpirun, "--oversubscribe", "-np", "2", a, "--threads", "1", *tr, "--save", ck,
                              "--save-every", "10"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=dict(os.environ, **ENV))
        t0, killed = time.time(), None
        while p.poll() is None and time.time() - t0 < 60 and killed is None:
            if os.path.exists(ck):
                pid = rank_pid(ck, 1)
                if pid:
                    os.kill(pid, signal.SIGKILL)
                    killed = pid
            time.sleep(0.02)
        try:
            out, err = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            err += "\n(mpirun still running 60 s after the kill)"
        at = tensors_meta(ck).get("fit.step", "?") if os.path.exists(ck) else "none"
        check(killed is not None and p.returncode not in (0, None) and "rank 1" in err,
              f"rank 1 killed (SIGKILL) at checkpoint step {at} of 600 ends the job (exit {p.returncode}) naming the "
              f"rank: {[l.strip() for l in err.splitlines() if 'rank 1' in l][:1]}")
        r0 = solo([*tr, "--save", whole])
        ends = []
        for n in (2, 1):
            mine = os.path.join(d, f"resumed{n}.safetensors")
            shutil.copy(ck, mine)
            r = mpi(2, [*tr, "--save", mine, "--resume", mine]) if n == 2 else solo([*tr, "--save", mine, "--resume", mine])
            ends.append(r.returncode == 0 and "resumed" in r.stdout and same(mine, whole))
            check(r0.returncode == 0 and ends[-1] and at not in ("none", "?", "600"),
                  f"killed at step {at}, resumed on {n} rank{'s' if n > 1 else ''}: the uninterrupted run's parameters, "
                  f"bit for bit ({r.stderr.strip()[:200]})")

    with tempfile.TemporaryDirectory() as d:
        faults(d)
        one, two = os.path.join(d, "one.safetensors"), os.path.join(d, "two.safetensors")
        train = ["train", "--steps", "12", "--batch", "8", "--tokens", "16", "--grad-shards", "2", "--deterministic-reduce",
                 *TINY]
        r1 = run([a, "--threads", "1", *train, "--save", one], env=ENV)
        r2 = mpi(2, [*train, "--save", two])
        check(r1.returncode == 0 and r2.returncode == 0 and same(one, two),
              f"train: 2 ranks equal one process with 2 shards, bit for bit ({r2.stderr.strip()[:300]})")
        check(r2.stdout.count("test MSE") == 1, "only rank 0 prints")
        check(figures(r1.stdout, "test MSE") == figures(r2.stdout, "test MSE") != [],
              f"train: the test MSE on 2 ranks (8 batches split 4, 4) is one process's: {figures(r2.stdout, 'test MSE')}")
        train3 = [*train[:train.index("--grad-shards")], "--grad-shards", "3", "--deterministic-reduce", *TINY]
        r1, r3 = solo(train3), mpi(3, train3)
        check(r1.returncode == 0 and r3.returncode == 0 and figures(r1.stdout, "test MSE") == figures(r3.stdout, "test MSE"),
              f"train: the test MSE on 3 ranks (8 batches split 2, 3, 3) is one process's: {figures(r3.stdout, 'test MSE')} "
              f"({r3.stderr.strip()[:300]})")

        series = os.path.join(d, "s.csv")
        write_series(series)
        base = ["forecast", "--data", series, "--seq-len", "8", "--pred-len", "4", "--epochs", "2", "--batch", "16", *TINY]
        fc = [*base, "--grad-shards", "3"]
        fc2 = [*base, "--grad-shards", "2", "--deterministic-reduce"]
        f1, f3, f3r = (os.path.join(d, f"{x}.safetensors") for x in ("f1", "f3", "f3r"))
        runs = os.path.join(d, "runs.csv")
        l1, l2, l3 = (os.path.join(d, f"log{x}.csv") for x in (1, 2, 3))
        r1 = run([a, "--threads", "1", *fc, "--deterministic-reduce", "--save", f1, "--log", l1], env=ENV)
        r3 = mpi(3, [*fc, "--deterministic-reduce", "--save", f3, "--results-csv", runs, "--log", l3])
        check(r1.returncode == 0 and r3.returncode == 0 and same(f1, f3),
              f"forecast: 3 ranks (batch 16 in shards of 5, 5, 6) equal one process, bit for bit ({r3.stderr.strip()[:300]})")
        # validation: 37 windows, 3 batches of 16; test: 77 windows, 5 batches (2 ranks take 2, one 1)
        check(evals(l1) == evals(l3) != [] and figures(r1.stdout, "test") == figures(r3.stdout, "test") != [],
              f"forecast: validation and test on 3 ranks are one process's to the last digit: {figures(r3.stdout, 'test')}")
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
        r1 = mpi(2, [*fc2, "--save", whole, "--log", l2])
        check(r.returncode == 0 and r1.returncode == 0 and same(part, whole),
              f"forecast: stopped and resumed on 2 ranks ends where the whole run ends ({r.stderr.strip()[:300]})")
        r = solo([*fc2, "--log", l1])
        check(r.returncode == 0 and evals(l1) == evals(l2) != [] and figures(r.stdout, "test") == figures(r1.stdout, "test"),
              f"forecast: validation (3 batches split 1, 2) and test on 2 ranks are one process's: {figures(r1.stdout, 'test')}")

        # classify: 36 training, 9 validation cases in batches of 4 (3 batches split 1, 2 on 2 ranks); 25 test cases (7)
        os.makedirs(os.path.join(d, "Slopes"))
        write_problem(os.path.join(d, "Slopes", "Slopes_TRAIN.ts"), 45, 1)
        write_problem(os.path.join(d, "Slopes", "Slopes_TEST.ts"), 25, 2)
        cl = ["classify", "--data", os.path.join(d, "Slopes"), "--epochs", "2", "--patience", "2", "--batch", "4",
              "--grad-shards", "2", "--deterministic-reduce", *TINY]
        c1, c2 = os.path.join(d, "c1.safetensors"), os.path.join(d, "c2.safetensors")
        r1, r2 = solo([*cl, "--save", c1, "--log", l1]), mpi(2, [*cl, "--save", c2, "--log", l2])
        keys = ("test accuracy", "      up", "    down", "    flat")   # the figures and the confusion matrix
        check(r1.returncode == 0 and r2.returncode == 0 and same(c1, c2) and evals(l1) == evals(l2) != [] and
              figures(r1.stdout, keys) == figures(r2.stdout, keys) and len(figures(r2.stdout, keys)) == 4,
              f"classify: 2 ranks train as one process, and their validation, test figures and confusion matrix are "
              f"its own: {figures(r2.stdout, keys)[:1]} ({r2.stderr.strip()[:300]})")

        # events (Sin, 60 sequences): validation and test 12 sequences each, 2 batches of 8 on 3 ranks (one idle)
        ev = ["events", "--sin", "--sin-seqs", "60", "--epochs", "2", "--patience", "2", "--batch", "8", *TINY,
              "--dropout", "0"]
        e1, e3 = os.path.join(d, "e1.safetensors"), os.path.join(d, "e3.safetensors")
        r0 = solo([*ev, "--log", l2])
        r1 = solo([*ev, "--grad-shards", "3", "--deterministic-reduce", "--save", e1, "--log", l1])
        r3 = mpi(3, [*ev, "--grad-shards", "3", "--deterministic-reduce", "--save", e3, "--log", l3])
        keys = ("aaren", "Poisson", "Hawkes")
        check(r1.returncode == 0 and r3.returncode == 0 and same(e1, e3) and evals(l1) == evals(l3) != [] and
              figures(r1.stdout, keys) == figures(r3.stdout, keys) != [],
              f"events: 3 ranks train as one process with 3 shards, and their validation and test figures are its "
              f"own: {figures(r3.stdout, keys)[:1]} ({r3.stderr.strip()[:300]})")
        # the loss is a mean over predicted events: shards weigh by their events, not their sequences, so
        # three shards of a batch give the one-piece loss and gradient (to float32 rounding)
        s0, s1 = steps(l2), steps(l1)
        rel = max((abs(x - y) / abs(x) for p, q in zip(s0, s1) for x, y in zip(p, q)), default=1.0)
        check(r0.returncode == 0 and len(s0) == len(s1) > 3 and rel < 2e-5,
              f"events: 3 shards have the one-piece loss and gradient norm at every step (worst relative {rel:.1e} "
              f"over {len(s0)} steps)")
        r = mpi(2, ["train", "--steps", "4", "--batch", "8", "--grad-shards", "3", *TINY])
        check(r.returncode == 1 and "multiple of the ranks" in r.stderr,
              f"3 shards on 2 ranks: {[l for l in r.stderr.splitlines() if 'multiple' in l][:1]}")

        # rl train: the action MSE (1024 windows, 128 batches) and 3 episodes (split 1, 2) on 2 ranks
        shared = os.environ.get("AAREN_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
        xml = os.path.join(shared, "data", "rl", "mujoco_xml")
        r = run([a, "rl", "make-data", "--env", "hopper", "--size", "2000", "--train-episodes", "48", "--eval-episodes",
                 "1", "--out", d, "--xml-dir", xml, "--quiet"]) if os.path.exists(os.path.join(xml, "hopper.xml")) else None
        if r is None or (r.returncode and ("no MuJoCo" in r.stderr or "no HDF5" in r.stderr)):
            print(f"rl train: not checked ({'no MuJoCo model files in ' + xml if r is None else r.stderr.strip()[:200]})")
        elif r.returncode:
            check(False, f"rl make-data ({r.stderr.strip()[:200]})")
        else:
            rl = ["rl", "train", "--data", os.path.join(d, "hopper-medium.hdf5"), "--K", "5", "--batch", "8", "--steps",
                  "10", "--eval-episodes", "3", "--target", "1500", "--seed", "3", "--xml-dir", xml, "--grad-shards", "2",
                  "--deterministic-reduce", *TINY]
            r1, r2 = solo(rl), mpi(2, rl)
            keys = ("trained", "result")
            check(r1.returncode == 0 and r2.returncode == 0 and figures(r1.stdout, keys) == figures(r2.stdout, keys) and
                  len(figures(r2.stdout, keys)) == 3,
                  f"rl train: the action MSE and the episodes' returns on 2 ranks are one process's: "
                  f"{figures(r2.stdout, keys)[:1]} ({r2.stderr.strip()[:300]})")
    return done("test_mpi")


if __name__ == "__main__":
    sys.exit(main())
