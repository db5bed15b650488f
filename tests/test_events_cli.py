"""`aaren events` end to end: on the Sin process with a small budget both architectures beat
a homogeneous Poisson process on test time NLL; `--stream` (events from stdin, the streaming
API) equals `--predict-seq` (the parallel path) event by event; bad input gets a clear error.
With ../shared/data: MIMIC with a tiny budget beats the Poisson baseline's mark accuracy; the printed
log-likelihood in THP's form is minus the NLL there (no window end), for the model and both baselines."""
import argparse
import os
import sys
import tempfile
from pycheck import check, done, failed, run



def table_row(out, name):
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == name and len(f) >= 8:   # NLL, time NLL, mark NLL, LL (THP), RMSE mean, RMSE median, acc
            return [float(v) for v in f[1:8]]
    return None


def rows(text):
    return [[float(v) for v in l.split()] for l in text.splitlines() if l.strip() and not l.startswith("#")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aaren", required=True)
    a = ap.parse_args().aaren
    shared = os.environ.get("AAREN_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
    with tempfile.TemporaryDirectory() as d:
        for arch in ("aaren", "transformer"):
            model = os.path.join(d, f"sin_{arch}.safetensors")
            r = run([a, "events", "--sin", "--sin-seqs", "200", "--arch", arch, "--d-model", "32", "--n-heads", "2",
                     "--d-ff", "64", "--epochs", "4", "--patience", "4", "--quiet", "--save", model])
            check(r.returncode == 0, f"{arch}: events --sin runs ({r.stderr.strip()[:200]})")
            m, p = table_row(r.stdout, arch), table_row(r.stdout, "Poisson")
            check(m is not None and p is not None and m[1] < p[1] - 0.02,
                  f"{arch}: Sin test time NLL {m and m[1]} beats the Poisson process's {p and p[1]}")
            par = run([a, "events", "--model", model, "--sin", "--sin-seqs", "200", "--predict-seq", "190"])
            check(par.returncode == 0, f"{arch}: --predict-seq runs ({par.stderr.strip()[:200]})")
            times = "\n".join(l.split()[1] for l in par.stdout.splitlines() if not l.startswith("#")) + "\n"
            st = run([a, "events", "--model", model, "--stream"], stdin=times)
            check(st.returncode == 0, f"{arch}: --stream runs ({st.stderr.strip()[:200]})")
            A, B = rows(par.stdout), rows(st.stdout)
            worst = max((abs(x - y) / (abs(x) + 1e-6) for ra, rb in zip(A, B) for x, y in zip(ra, rb)), default=1.0)
            check(len(A) == len(B) > 20 and worst < 1e-4,
                  f"{arch}: streamed predictions equal the parallel ones over {len(A)} events (worst relative {worst:.2e})")
            # --predict FILE: the same figures for a file of sequences, one CSV row per event
            seqfile, predcsv = os.path.join(d, "seq.csv"), os.path.join(d, "pred.csv")
            with open(seqfile, "w") as f:
                f.write("seq_id,time\n" + "".join(f"s190,{t}\n" for t in times.split()))
            pf = run([a, "events", "--model", model, "--predict", seqfile, "--predictions", predcsv])
            C = [[float(x) for x in l.split(",")[2:9]] for l in open(predcsv).read().splitlines()[1:]] \
                if pf.returncode == 0 else []
            worst = max((abs(x - y) / (abs(x) + 1e-6) for ra, rb in zip(A, C) for x, y in zip(ra[1:8], rb)), default=1.0)
            check(len(C) == len(A) and worst < 1e-4,   # the file holds the times as printed (9 digits)
                  f"{arch}: --predict FILE equals --predict-seq over {len(C)} events ({pf.stderr.strip()[:200]})")
            state = [l for l in st.stdout.splitlines() if l.startswith("# ") and "state" in l]
            check(bool(state), f"{arch}: stream reports its state: {state[0] if state else '-'}")
            bad = run([a, "events", "--model", model, "--stream"], stdin="1.0\n0.5\n")
            check(bad.returncode == 1 and "line 2" in bad.stderr and "non-decreasing" in bad.stderr,
                  f"{arch}: a decreasing time on stdin is named: {bad.stderr.strip()}")
        csv = os.path.join(d, "bad.csv")
        with open(csv, "w") as f:
            f.write("seq_id,time,mark\n0,0.0,1\n0,2.0,1\n0,1.5,0\n")
        r = run([a, "events", "--data", csv])
        check(r.returncode == 1 and "bad.csv" in r.stderr and "line 4" in r.stderr, f"decreasing times in a file: {r.stderr.strip()}")
        r = run([a, "events", "--data", os.path.join(d, "none.csv")])
        check(r.returncode == 1 and "none.csv" in r.stderr, "a missing file is named")
        mimic = os.path.join(shared, "data", "events", "MIMIC", "mimic_events.csv")
        if not os.path.exists(mimic):
            print(f"test_events_cli: SKIPPED the MIMIC run: {mimic} not found (real data sets live in ../shared/data)")
            return 1 if failed() else 77
        model = os.path.join(d, "mimic.safetensors")
        r = run([a, "events", "--data", mimic, "--d-model", "32", "--n-heads", "2", "--d-ff", "64", "--epochs", "6",
                 "--patience", "6", "--quiet", "--save", model])
        m, p = table_row(r.stdout, "aaren"), table_row(r.stdout, "Poisson")
        h = table_row(r.stdout, "Hawkes")
        check(r.returncode == 0 and m and p and m[6] > p[6] + 0.1 and m[0] < p[0],
              f"MIMIC: mark accuracy {m and m[6]} and NLL {m and m[0]} beat the baseline's {p and p[6]} and {p and p[0]}")
        # without a window end the THP-form log-likelihood is minus the NLL; the Hawkes baseline
        # has the Poisson baseline's marks and a better time part on TRAIN's fit
        check(m and p and h and abs(m[3] + m[0]) < 2e-4 and abs(p[3] + p[0]) < 2e-4 and abs(h[3] + h[0]) < 2e-4 and
              h[2] == p[2] and h[6] == p[6],
              f"MIMIC: LL (THP form) vs NLL: {m and (m[3], m[0])}, Poisson {p and (p[3], p[0])}, Hawkes {h and (h[3], h[0])}")
        r = run([a, "events", "--model", model, "--stream"], stdin="0.0\n0.3\n")
        check(r.returncode == 1 and "MARK" in r.stderr, "a marked model asks for marks on stdin")
    return done("test_events_cli")


if __name__ == "__main__":
    sys.exit(main())
