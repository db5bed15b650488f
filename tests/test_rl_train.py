"""`aaren rl train` / `aaren rl eval` end to end on a tiny Hopper data set (made by
`aaren rl make-data` with a tiny budget): both architectures train, report every evaluation
mode that applies (Transformer: window-recompute; Aaren: window-streams and full-stream),
append them to the results CSV, and a saved model evaluated again with `rl eval` gives the
same returns (evaluation is deterministic for a seed), with the Aaren window run through
recompute and streams agreeing. Then a run with several targets (data-best, paper, a
number) and --eval-every (curve rows every 10 updates; the weights equal the run's without it,
bit for bit), the behaviour-cloning baseline (--no-returns: one evaluation, target 'none',
rl eval ignores the target), and a results CSV of the older layout taking plain runs only. Skips (77)
without MuJoCo, HDF5 or the model files."""
import argparse
import csv
import os
import re
import sys
import tempfile
import pycheck
from pycheck import check, done



def run(args):
    return pycheck.run(args, env={"OMP_NUM_THREADS": "1"})


def results(out):
    rows = {}
    for line in out.splitlines():
        if line.startswith("result:"):
            kv = dict(f.split("=", 1) for f in line.split()[1:])
            rows[kv["mode"]] = kv
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aaren", required=True)
    a = ap.parse_args().aaren
    shared = os.environ.get("AAREN_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
    xml = os.path.join(shared, "data", "rl", "mujoco_xml")
    if not os.path.exists(os.path.join(xml, "hopper.xml")):
        print(f"test_rl_train: skipped: no MuJoCo model files in {xml}")
        sys.exit(77)
    with tempfile.TemporaryDirectory() as d:
        r = run([a, "rl", "make-data", "--env", "hopper", "--size", "2000", "--train-episodes", "48",
                 "--eval-episodes", "1", "--out", d, "--xml-dir", xml, "--quiet"])
        if r.returncode and ("no MuJoCo" in r.stderr or "no HDF5" in r.stderr):
            print(f"test_rl_train: skipped: {r.stderr.strip()}")
            sys.exit(77)
        check(r.returncode == 0, f"make-data ({r.stderr.strip()[:200]})")
        data = os.path.join(d, "hopper-medium.hdf5")
        csv_path = os.path.join(d, "runs.csv")
        small = ["--d-model", "32", "--n-layers", "1", "--d-ff", "64", "--K", "5", "--batch", "8", "--steps", "30",
                 "--eval-episodes", "2", "--target", "1500", "--seed", "3", "--xml-dir", xml, "--quiet"]
        for arch, modes in (("transformer", ["window-recompute"]), ("aaren", ["window-streams", "full-stream"])):
            model = os.path.join(d, f"{arch}.safetensors")
            t = run([a, "rl", "train", "--data", data, "--arch", arch, "--save", model, "--results-csv", csv_path] + small)
            check(t.returncode == 0, f"{arch}: rl train runs ({t.stderr.strip()[:200]})")
            m = re.search(r"action MSE on 1024 drawn windows ([\d.]+)", t.stdout)
            check(m is not None and float(m.group(1)) < 1.0, f"{arch}: reports the action error ({m and m.group(1)})")
            got = results(t.stdout)
            check(sorted(got) == sorted(modes), f"{arch}: evaluated in {sorted(got)}")
            for mode in modes:
                kv = got.get(mode, {})
                check(kv.get("env") == "hopper" and float(kv.get("length", 0)) > 0 and int(kv.get("agent_bytes", 0)) > 0,
                      f"{arch} {mode}: return {kv.get('return_mean')}, score {kv.get('score')}, {kv.get('step_us')} us/step")
            e = run([a, "rl", "eval", "--model", model, "--episodes", "2", "--target", "1500", "--seed", "3", "--xml-dir", xml])
            check(e.returncode == 0, f"{arch}: rl eval runs ({e.stderr.strip()[:200]})")
            again = results(e.stdout)
            for mode in modes:
                check(again.get(mode, {}).get("return_mean") == got.get(mode, {}).get("return_mean"),
                      f"{arch} {mode}: the saved model repeats its returns ({again.get(mode, {}).get('return_mean')})")
            if arch == "aaren":
                rc = again.get("window-recompute", {}).get("return_mean")
                check(rc is not None and abs(float(rc) - float(got["window-streams"]["return_mean"])) < 1e-6 * max(1, abs(float(rc))) + 0.05,
                      f"aaren: the K-stream window acts like the recomputed window (returns {rc} and {got['window-streams']['return_mean']})")
        with open(csv_path) as f:
            rows = list(csv.DictReader(f))
        check(len(rows) == 3 and {r["mode"] for r in rows} == {"window-recompute", "window-streams", "full-stream"}
              and all(r["steps"] == "30" and r["seed"] == "3" for r in rows), f"results CSV holds the 3 evaluations ({len(rows)} rows)")
        e = run([a, "rl", "eval", "--model", os.path.join(d, "transformer.safetensors"), "--mode", "streams", "--xml-dir", xml])
        check(e.returncode == 2 and "Aaren" in e.stderr, f"the K-stream window is refused for a Transformer: {e.stderr.strip()}")
        # a run stopped after 11 of its 30 steps and resumed ends bit for bit where the whole run ends
        full, part = os.path.join(d, "full.safetensors"), os.path.join(d, "part.safetensors")
        base = ["rl", "train", "--data", data, "--arch", "aaren"] + small + ["--eval-episodes", "0", "--dropout", "0.1"]
        r1 = run([a, *base, "--save", full])
        run([a, *base, "--save", part, "--stop-after", "11"])
        r2 = run([a, *base, "--save", part, "--resume", part])
        same = False
        if r1.returncode == 0 and r2.returncode == 0:
            ta, tb = pycheck_tensors(full), pycheck_tensors(part)
            same = ta.keys() == tb.keys() and all(ta[k] == tb[k] for k in ta)
        check(same, f"rl train: stopped and resumed equals the whole run, bit for bit ({r2.stderr.strip()[:200]})")
        # several targets, a learning curve and the behaviour-cloning baseline (issue 21)
        info = run([a, "rl", "info", "--data", data])
        best = float(re.search(r"return_max: ([-\d.]+)", info.stdout).group(1))
        curve_csv = os.path.join(d, "curve.csv")
        cur, bc = os.path.join(d, "curve.safetensors"), os.path.join(d, "bc.safetensors")
        r3 = run([a, *base, "--save", cur, "--eval-every", "10", "--curve-episodes", "1", "--eval-episodes", "2",
                  "--target", "data-best,paper,700", "--results-csv", curve_csv])
        check(r3.returncode == 0, f"rl train --eval-every --target list runs ({r3.stderr.strip()[:200]})")
        same = r1.returncode == 0 and r3.returncode == 0 and pycheck_tensors(full) == pycheck_tensors(cur)
        check(same, "rl train: evaluating every 10 updates leaves the trained weights bit-identical")
        with open(curve_csv) as f:
            rows = list(csv.DictReader(f))
        curve = [(r["updates_at"], r["target_kind"], r["mode"]) for r in rows if r["updates_at"]]
        final = [r for r in rows if not r["updates_at"]]
        want = [(str(u), k, m) for u in (10, 20, 30) for k in ("data-best", "paper", "number") for m in ("window-streams", "full-stream")]
        check(curve == want and all(r["episodes"] == "1" and r["eval_every"] == "10" for r in rows if r["updates_at"]),
              f"a curve row per 10 updates, target and mode ({len(curve)} rows)")
        kinds = {r["target_kind"]: float(r["target"]) for r in final}
        check(len(final) == 6 and all(r["episodes"] == "2" and r["model"] == "dt" for r in final)
              and abs(kinds.get("data-best", 0) - best) < 1e-3 * max(1, abs(best)) and kinds.get("paper") == 3600
              and kinds.get("number") == 700, f"final rows per target: {kinds} (data best {best})")
        r4 = run([a, "rl", "train", "--data", data, "--arch", "transformer", "--no-returns", "--save", bc,
                  "--results-csv", curve_csv, "--target", "data-best,paper"] + small[:-7] + ["--seed", "3", "--xml-dir", xml, "--quiet"])
        check(r4.returncode == 0, f"rl train --no-returns runs ({r4.stderr.strip()[:200]})")
        with open(curve_csv) as f:
            rows = list(csv.DictReader(f))
        bcr = [r for r in rows if r["model"] == "bc"]
        check(len(bcr) == 1 and bcr[0]["target"] == "none" and bcr[0]["target_kind"] == "none",
              f"a BC run evaluates once, without a target ({[(r['target'], r['target_kind']) for r in bcr]})")
        ev = [results(run([a, "rl", "eval", "--model", bc, "--episodes", "1", "--target", t, "--xml-dir", xml]).stdout)
              for t in ("10", "5000")]
        rm = [e.get("window-recompute", {}).get("return_mean") for e in ev]
        check(rm[0] is not None and rm[0] == rm[1] and ev[0]["window-recompute"].get("target") == "none",
              f"rl eval: a BC model ignores the target (returns {rm})")
        # a CSV of the older layout (no model, target_kind, ... columns) takes plain runs in its layout only
        old = os.path.join(d, "old.csv")
        head = ("env,data,arch,mode,seed,steps,batch,K,target,episodes,return_mean,return_std,score,length,step_us,"
                "agent_bytes,train_s,action_mse,threads\n")
        with open(old, "w") as f:
            f.write(head)
        r5 = run([a, *base, "--results-csv", old, "--eval-episodes", "1"])
        with open(old) as f:
            lines = f.read().splitlines()
        check(r5.returncode == 0 and len(lines) == 3 and all(len(x.split(",")) == 19 for x in lines),
              f"a plain run appends to an older-layout CSV in its layout ({r5.stderr.strip()[:200]})")
        r6 = run([a, *base, "--results-csv", old, "--eval-episodes", "1", "--target", "paper,700"])
        check(r6.returncode == 2 and "old.csv" in r6.stderr and "older layout" in r6.stderr,
              f"... and refuses a run with several targets, naming the file ({r6.stderr.strip()[:200]})")


def pycheck_tensors(path):
    """The file's tensors as raw bytes by name (safetensors: header length, JSON header, data)."""
    import json
    import struct
    with open(path, "rb") as f:
        blob = f.read()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    body = blob[8 + n:]
    return {k: body[v["data_offsets"][0]:v["data_offsets"][1]] for k, v in header.items() if k != "__metadata__"}


if __name__ == "__main__":
    main()
    sys.exit(done("test_rl_train"))
