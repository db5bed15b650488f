"""`aaren rl make-data` end to end on Hopper with a tiny budget, read back with h5py:
D4RL's layout and dtypes; sizes (medium N, medium-expert 2N with the medium part first);
episode boundaries consistent with terminals / timeouts and with the environment's rules
(a terminal row's next observation is unhealthy, every other is healthy; a timeout comes at
step 1000 and nowhere else); next_observations continue each episode; the printed return
statistics equal those recomputed from the rewards; the same files, byte for byte, on one thread
as on two; a policy file runs in `rl eval-policy`; bad arguments get clear errors.
Skips (77) without MuJoCo, HDF5, h5py or the model files."""
import argparse
import os
import re
import sys
import time
import tempfile
from pycheck import check, done, run, skip



def episodes(term, tout):
    ends = [i + 1 for i in range(len(term)) if term[i] or tout[i]]
    starts = [0] + ends
    if starts[-1] == len(term):
        starts.pop()
    return list(zip(starts, ends + [len(term)] * (len(starts) - len(ends))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aaren", required=True)
    a = ap.parse_args().aaren
    try:
        import h5py
        import numpy as np
    except ImportError:
        skip("test_rl_data", "h5py or numpy missing (apt-get install python3-h5py)")
    shared = os.environ.get("AAREN_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
    xml = os.path.join(shared, "data", "rl", "mujoco_xml")
    if not os.path.exists(os.path.join(xml, "hopper.xml")):
        skip("test_rl_data", f"no MuJoCo model files in {xml}")
    with tempfile.TemporaryDirectory() as d:
        N = 3000
        base = [a, "rl", "make-data", "--env", "hopper", "--size", str(N), "--train-episodes", "96",
                "--eval-episodes", "2", "--seed", "4", "--xml-dir", xml, "--quiet"]
        r1 = run(base + ["--out", os.path.join(d, "one")], env={"OMP_NUM_THREADS": "1"})
        if r1.returncode != 0 and ("no MuJoCo" in r1.stderr or "no HDF5" in r1.stderr):
            skip("test_rl_data", r1.stderr.strip())
        check(r1.returncode == 0, f"make-data runs ({r1.stderr.strip()[:300]})")
        time.sleep(1.1)   # a second later: creation times, if written, would differ
        r2 = run(base + ["--out", os.path.join(d, "two")], env={"OMP_NUM_THREADS": "2"})
        check(r2.returncode == 0, f"make-data on two threads runs ({r2.stderr.strip()[:300]})")
        if r1.returncode or r2.returncode:
            return
        printed = {}
        for line in r1.stdout.splitlines():
            m = re.match(r"\S*/hopper-([a-z-]+)\.hdf5\s+(\d+) transitions\s+(\d+) episodes\s+return\s+(\S+) \+-\s+(\S+)", line)
            if m:
                printed[m.group(1)] = [float(v) for v in m.groups()[1:]]
        check(sorted(printed) == ["medium", "medium-expert", "medium-replay"], f"three data sets reported: {sorted(printed)}")
        keys = ["observations", "actions", "rewards", "next_observations", "terminals", "timeouts"]
        data = {}
        for name in ("medium", "medium-replay", "medium-expert"):
            path = os.path.join(d, "one", f"hopper-{name}.hdf5")
            with h5py.File(path, "r") as f:
                check(all(k in f for k in keys), f"{name}: has {keys}")
                x = {k: f[k][()] for k in keys}
                meta = dict(f.attrs)
            with h5py.File(os.path.join(d, "two", f"hopper-{name}.hdf5"), "r") as f:
                same = all(np.array_equal(x[k], f[k][()]) for k in keys)
            check(same, f"{name}: identical on one thread and on two")
            with open(path, "rb") as f1, open(os.path.join(d, "two", f"hopper-{name}.hdf5"), "rb") as f2:
                check(f1.read() == f2.read(), f"{name}: the same bytes on one thread and on two (no creation times)")
            data[name] = x
            n = len(x["rewards"])
            check(all(x[k].dtype == np.float32 for k in keys[:4]) and x["terminals"].dtype == np.bool_
                  and x["timeouts"].dtype == np.bool_, f"{name}: float32 arrays and bool flags")
            check(x["observations"].shape == (n, 11) and x["next_observations"].shape == (n, 11)
                  and x["actions"].shape == (n, 3) and x["rewards"].shape == (n,) and x["terminals"].shape == (n,),
                  f"{name}: shapes [n, 11], [n, 3], [n] with n = {n}")
            check(meta.get("env") in ("hopper", b"hopper") and str(meta.get("dataset", "")).find(name) >= 0,
                  f"{name}: env and dataset attributes ({meta.get('env')}, {meta.get('dataset')})")
            check(np.all(np.abs(x["actions"]) <= 1), f"{name}: actions within [-1, 1]")
            eps = episodes(x["terminals"], x["timeouts"])
            cont = all(np.array_equal(x["next_observations"][s:e - 1], x["observations"][s + 1:e]) for s, e in eps)
            check(cont, f"{name}: next_observations continue each of {len(eps)} episodes")
            nxt = x["next_observations"]
            healthy = (nxt[:, 0] > 0.7) & (np.abs(nxt[:, 1]) < 0.2)
            term = x["terminals"]
            check(np.all(~healthy[term]) and np.all(healthy[~term]),
                  f"{name}: {int(term.sum())} terminal rows are exactly the rows whose next state is unhealthy")
            lens = [e - s for s, e in eps]
            cut = N - 1 if name == "medium-expert" else -1   # the medium part's cut episode is closed as a timeout
            tout_ok = all(x["timeouts"][e - 1] == (l == 1000) for (s, e), l in zip(eps, lens)
                          if (x["terminals"][e - 1] or x["timeouts"][e - 1]) and e - 1 != cut)
            check(tout_ok and not np.any(x["terminals"] & x["timeouts"]), f"{name}: timeouts exactly at step 1000")
            rets = np.array([x["rewards"][s:e].astype(np.float64).sum() for s, e in eps])
            p = printed.get(name, [0, 0, 0, 0])
            sd = rets.std(ddof=1) if len(rets) > 1 else 0.0
            check(p[0] == n and p[1] == len(eps) and abs(p[2] - rets.mean()) < 0.06 and abs(p[3] - sd) < 0.06,
                  f"{name}: printed {p} = recomputed {n}, {len(eps)}, {rets.mean():.1f} +- {sd:.1f}")
            info = run([a, "rl", "info", "--data", path])
            vals = dict(l.split(": ", 1) for l in info.stdout.splitlines() if ": " in l)
            check(info.returncode == 0 and int(vals.get("transitions", -1)) == n and int(vals.get("episodes", -1)) == len(eps)
                  and abs(float(vals.get("return_mean", "nan")) - rets.mean()) < 0.06,
                  f"{name}: rl info agrees ({info.stderr.strip()[:200]})")
        med, me = data["medium"], data["medium-expert"]
        check(len(med["rewards"]) == N and len(me["rewards"]) == 2 * N, "medium has N rows and medium-expert 2N")
        check(all(np.array_equal(me[k][:N], med[k]) for k in ("observations", "actions", "rewards")) and me["timeouts"][N - 1] | me["terminals"][N - 1],
              "medium-expert starts with the medium data, its cut last episode closed")
        check(0 < len(data["medium-replay"]["rewards"]) <= 1.5 * N, f"medium-replay holds {len(data['medium-replay']['rewards'])} rows")
        pol = os.path.join(d, "one", "hopper-expert-policy.safetensors")
        ev = run([a, "rl", "eval-policy", "--policy", pol, "--episodes", "2", "--xml-dir", xml])
        check(ev.returncode == 0 and ev.stdout.startswith("hopper"), f"eval-policy runs a policy file ({ev.stderr.strip()[:200]})")
        ev = run([a, "rl", "eval-policy", "--policy", pol, "--env", "walker2d", "--xml-dir", xml])
        check(ev.returncode != 0 and "hopper" in ev.stderr and "walker2d" in ev.stderr, f"a hopper policy in walker2d is refused: {ev.stderr.strip()}")
        for args, what in ((["--size", "0"], "--size"), (["--action-noise", "x"], "--action-noise"), ([], "--env")):
            e = run([a, "rl", "make-data"] + (["--env", "hopper"] if args else []) + args + ["--out", d])
            check(e.returncode != 0 and what in e.stderr, f"make-data {args or 'without --env'}: {e.stderr.strip()}")


if __name__ == "__main__":
    main()
    sys.exit(done("test_rl_data"))
