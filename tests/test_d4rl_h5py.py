"""`aaren rl info` on D4RL-style files written here with h5py, independently of our writer, the
way real D4RL files are laid out (numpy bool terminals / timeouts, float32 arrays, infos/ and
metadata/ entries, an env attribute): the counts, the episode returns (recomputed here with
numpy) and D4RL's normalised score; the environment taken from the file name when there is no
attribute; older forms (float flags, rewards [n, 1], float64 arrays); malformed files get a
non-zero exit and a message naming the file. Skips (exit 77) without h5py / numpy or when the
build has no HDF5."""
import argparse
import os
import subprocess
import sys
import tempfile
from pycheck import check, done

try:
    import h5py
    import numpy as np
except ImportError as e:
    print(f"test_d4rl_h5py: SKIPPED: {e} (use Debian's /usr/bin/python3 with python3-h5py)")
    sys.exit(77)

# d4rl/infos.py reference returns: random, expert
REF = {"hopper": (-20.272305, 3234.3), "walker2d": (1.629008, 4592.3), "halfcheetah": (-280.178953, 12135.0),
       "ant": (-325.6, 3879.7)}


def info(aaren, path):
    r = subprocess.run([aaren, "rl", "info", "--data", path], capture_output=True, text=True)
    kv = {}
    for line in r.stdout.splitlines():
        k, sep, v = line.partition(": ")
        if sep:
            kv[k] = v
    return r, kv


def expected(rew, term, tout):
    """Episodes end after a terminal or timeout row; a trailing run is one more."""
    ends = np.flatnonzero(np.logical_or(term, tout)) + 1
    bounds = [0] + list(ends) + ([len(rew)] if len(ends) == 0 or ends[-1] < len(rew) else [])
    rets = np.array([rew[a:b].astype(np.float64).sum() for a, b in zip(bounds[:-1], bounds[1:])])
    last = [b - 1 for b in bounds[1:]]
    n_term = sum(bool(term[i]) for i in last)
    n_tout = sum(bool(tout[i]) and not bool(term[i]) for i in last)
    return rets, n_term, n_tout, len(rets) - n_term - n_tout


def write(path, obs, act, rew, term, tout, env=None, extras=True, skip=()):
    with h5py.File(path, "w") as f:
        for name, v in (("observations", obs), ("actions", act), ("rewards", rew), ("terminals", term),
                        ("timeouts", tout)):
            if name not in skip:
                f.create_dataset(name, data=v)
        if extras:
            f.create_dataset("next_observations", data=np.roll(obs, -1, axis=0))
            f.create_dataset("infos/qpos", data=np.zeros((len(rew), 6)))
            f.create_dataset("infos/action_log_probs", data=np.zeros(len(rew), np.float32))
            f.create_dataset("metadata/algorithm", data="SAC")
            f["metadata/iteration"] = 1000
        if env is not None:
            f.attrs["env"] = env


def close(a, b, tol=1e-4):
    return abs(a - b) <= tol * max(1.0, abs(b))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aaren", required=True)
    aaren = ap.parse_args().aaren
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as d:
        # episodes of lengths 40 (terminated), 1000-like cap (timeout), 25 (terminated), 17 (unfinished)
        lens = [40, 60, 25, 17]
        n = sum(lens)
        term = np.zeros(n, bool)
        tout = np.zeros(n, bool)
        term[39] = True
        tout[99] = True
        term[124] = True
        obs = rng.standard_normal((n, 11)).astype(np.float32)
        act = rng.uniform(-1, 1, (n, 3)).astype(np.float32)
        rew = rng.uniform(0, 4, n).astype(np.float32)
        path = os.path.join(d, "tiny.hdf5")
        write(path, obs, act, rew, term, tout, env="hopper")
        r, kv = info(aaren, path)
        if r.returncode != 0 and "no HDF5" in r.stderr:
            print(f"test_d4rl_h5py: SKIPPED: the build has no HDF5 ({r.stderr.strip()})")
            return 77
        check(r.returncode == 0, f"rl info runs ({r.stderr.strip()[:200]})")
        rets, n_term, n_tout, n_unf = expected(rew, term, tout)
        check(kv.get("transitions") == str(n) and kv.get("obs_dim") == "11" and kv.get("act_dim") == "3",
              f"transitions {kv.get('transitions')} obs_dim {kv.get('obs_dim')} act_dim {kv.get('act_dim')}")
        check(kv.get("episodes") == str(len(rets)) == "4" and kv.get("terminated") == str(n_term) and
              kv.get("timed_out") == str(n_tout) and kv.get("unfinished") == str(n_unf),
              f"episodes {kv.get('episodes')}: {kv.get('terminated')} terminated, {kv.get('timed_out')} timed out, "
              f"{kv.get('unfinished')} unfinished")
        mean, std = rets.mean(), rets.std(ddof=1)
        check(close(float(kv.get("return_mean", "nan")), mean) and close(float(kv.get("return_std", "nan")), std),
              f"return {kv.get('return_mean')} +- {kv.get('return_std')} (numpy: {mean:.6f} +- {std:.6f})")
        check(close(float(kv.get("return_min", "nan")), rets.min()) and
              close(float(kv.get("return_max", "nan")), rets.max()) and
              close(float(kv.get("length_mean", "nan")), n / 4), "min, max and mean length")
        lo, hi = REF["hopper"]
        score = 100 * (mean - lo) / (hi - lo)
        check(kv.get("env") == "hopper" and kv.get("next_observations") == "yes" and
              close(float(kv.get("normalized_score", "nan")), score),
              f"hopper normalised score {kv.get('normalized_score')} (by hand {score:.6f})")

        # no env attribute: the name of the file says walker2d; older forms of the arrays
        obs17 = rng.standard_normal((n, 17))
        act6 = rng.uniform(-1, 1, (n, 6)).astype(np.float32)
        path = os.path.join(d, "walker2d-medium-v2.hdf5")
        write(path, obs17, act6, rew.astype(np.float64).reshape(n, 1), term.astype(np.float32),
              tout.astype(np.float32), extras=False)
        r, kv = info(aaren, path)
        lo, hi = REF["walker2d"]
        check(r.returncode == 0 and kv.get("obs_dim") == "17" and "env" not in kv and
              close(float(kv.get("normalized_score", "nan")), 100 * (mean - lo) / (hi - lo)),
              f"walker2d from the file name, float flags, rewards [n, 1]: score {kv.get('normalized_score')} "
              f"({r.stderr.strip()[:200]})")
        path = os.path.join(d, "antmaze-umaze-v0.hdf5")
        write(path, obs, act, rew, term, tout, extras=False)
        r, kv = info(aaren, path)
        check(r.returncode == 0 and "normalized_score" not in kv, "antmaze is not ant: no score")

        # malformed files
        def bad(name, frag, **kw):
            p = os.path.join(d, name)
            args = dict(obs=obs, act=act, rew=rew, term=term, tout=tout, env="hopper")
            args.update(kw)
            write(p, **args)
            r, _ = info(aaren, p)
            check(r.returncode != 0 and name in r.stderr and frag in r.stderr, f"{name}: {r.stderr.strip()}")

        bad("no_rewards.hdf5", "missing dataset 'rewards'", skip=("rewards",))
        nan_obs = obs.copy()
        nan_obs[7, 2] = np.nan
        bad("nan_obs.hdf5", "'observations' row 7, column 2", obs=nan_obs)
        bad("short.hdf5", "mismatched lengths", act=act[:-1])
        two = term.astype(np.int8)
        two[5] = 2
        bad("two.hdf5", "'terminals' row 5 holds 2", term=two)
        p = os.path.join(d, "text.hdf5")
        with open(p, "w") as f:
            f.write("observations,actions\n0.1,0.2\n")
        r, _ = info(aaren, p)
        check(r.returncode != 0 and "text.hdf5" in r.stderr and "not an HDF5 file" in r.stderr,
              f"a text file: {r.stderr.strip()}")
        r, _ = info(aaren, os.path.join(d, "none.hdf5"))
        check(r.returncode != 0 and "none.hdf5" in r.stderr, f"a missing file: {r.stderr.strip()}")
        hostile(aaren, d, obs, act, rew, term, tout)
    return done("test_d4rl_h5py")


def refused(aaren, path, frag, what, extra=()):
    r = subprocess.run([aaren, "rl", "info", "--data", path, *extra], capture_output=True, text=True, timeout=60)
    check(r.returncode == 1 and os.path.basename(path) in r.stderr and frag in r.stderr, f"{what}: exit {r.returncode}: {r.stderr.strip()[:300]}")


def hostile(aaren, d, obs, act, rew, term, tout):
    """Files made to hurt the reader: each is an error naming the file, never a crash, a hang or
    gigabytes of memory."""
    rest = {"actions": act, "rewards": rew, "terminals": term, "timeouts": tout}
    # libhdf5 1.10 dereferences a wild address reading this one (a corrupted global heap)
    p = os.path.join(d, "heap.hdf5")
    with h5py.File(p, "w", libver="earliest") as f:
        f.create_dataset("observations", data=obs)
        for k, v in rest.items():
            f.create_dataset(k, data=v)
    b = bytearray(open(p, "rb").read())
    at = b.find(b"HEAP")
    b[at + 24:at + 32] = b"\xff" * 8
    open(p, "wb").write(b)
    r = subprocess.run([aaren, "rl", "info", "--data", p], capture_output=True, text=True, timeout=60)
    check(r.returncode == 1 and "heap.hdf5" in r.stderr and ("crashed" in r.stderr or "damaged" in r.stderr),
          f"a corrupted heap: exit {r.returncode}: {r.stderr.strip()[:300]}")
    # a 3 KB file declaring 4.4 GB of chunks, none written
    p = os.path.join(d, "unwritten.hdf5")
    with h5py.File(p, "w") as f:
        f.create_dataset("observations", shape=(10 ** 8, 11), dtype=np.float32, chunks=True)
        for k in rest:
            f.create_dataset(k, shape=(10 ** 8,), dtype=np.float32, chunks=True)
    refused(aaren, p, "'observations' declares 4400000000 bytes but the file holds 0", "declared, never written")
    # the datasets reached through links: external (another file) and soft
    other = os.path.join(d, "other.hdf5")
    with h5py.File(other, "w") as f:
        f.create_dataset("observations", data=obs)
    for kind, link in (("external", h5py.ExternalLink(other, "/observations")), ("soft", h5py.SoftLink("/stash"))):
        p = os.path.join(d, f"{kind}.hdf5")
        with h5py.File(p, "w") as f:
            f.create_dataset("stash", data=obs)
            f["observations"] = link
            for k, v in rest.items():
                f.create_dataset(k, data=v)
        refused(aaren, p, "'observations' is a soft or external link", f"a {kind} link")
    # raw data kept in an external file
    raw = os.path.join(d, "raw.bin")
    obs.astype(np.float32).tofile(raw)
    p = os.path.join(d, "extstore.hdf5")
    with h5py.File(p, "w") as f:
        f.create_dataset("observations", shape=obs.shape, dtype=np.float32, external=[(raw, 0, obs.nbytes)])
        for k, v in rest.items():
            f.create_dataset(k, data=v)
    refused(aaren, p, "keeps its data in external files", "external storage")
    # compressed zeros: within deflate's reach, so only the memory limit stops them
    big = 2 * 10 ** 6
    p = os.path.join(d, "zeros.hdf5")
    with h5py.File(p, "w") as f:
        for k, shape in (("observations", (big, 11)), ("actions", (big, 3)), ("rewards", (big,)),
                         ("terminals", (big,)), ("timeouts", (big,))):
            f.create_dataset(k, data=np.zeros(shape, np.float32), compression="gzip", compression_opts=9,
                             chunks=(65536,) + shape[1:])
    check(os.path.getsize(p) < 400_000, f"the compressed file is small ({os.path.getsize(p)} bytes)")
    refused(aaren, p, "more than the limit of 50 MB", "beyond --max-memory", ("--max-memory", "50"))
    r = subprocess.run([aaren, "rl", "info", "--data", p, "--max-memory", "200"], capture_output=True, text=True)
    check(r.returncode == 0 and f"transitions: {big}" in r.stdout, f"within --max-memory: {r.stderr.strip()[:200]}")
    # a read stopped by the time limit
    refused(aaren, p, "took longer than 0.001 s", "--read-timeout", ("--read-timeout", "0.001"))
    # not a regular file
    fifo = os.path.join(d, "fifo.hdf5")
    os.mkfifo(fifo)
    refused(aaren, fifo, "not a regular file", "a pipe")


if __name__ == "__main__":
    sys.exit(main())
