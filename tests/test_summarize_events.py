"""python/summarize_events.py end to end on a small made-up runs CSV: per seed the learning rate
with the lowest validation NLL is kept (not the best test NLL), a seed not run at every rate of
the grid (every rate in the file) is left out and named, the table cell is mean ± sample std over the kept seeds,
the grid table counts the choices, and runs of another CSV are listed only for data sets the grid
has no cell of, or when they have the copy logit (a head the grid does not have). Needs only the standard library."""
import csv
import math
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from pycheck import check, done  # noqa: E402

HEADER = ("data,arch,d_model,n_heads,n_layers,d_ff,K,seed,epochs_run,best_epoch,val_nll,test_nll,test_nll_time,"
          "test_nll_mark,test_rmse,test_acc,poisson_nll,poisson_nll_time,poisson_rmse,poisson_acc,n_test_pred,seconds,"
          "params,threads,lr,patience,max_epochs,test_ll,test_ll_time,test_rmse_median,poisson_ll,poisson_rmse_median,"
          "hawkes_nll,hawkes_nll_time,hawkes_ll,hawkes_rmse,hawkes_rmse_median,hawkes_acc,hawkes_mu,hawkes_alpha,"
          "hawkes_beta,tie_marks,repeat_acc,options").split(",")


def row(data, arch, seed, lr, val, test, epochs=20, cap=100, tie=0):
    r = dict.fromkeys(HEADER, "1")
    r.update(data=data, arch=arch, seed=str(seed), lr=f"{lr:g}", val_nll=str(val), test_nll=str(test),
             test_ll=str(-test), epochs_run=str(epochs), best_epoch=str(epochs - 5), max_epochs=str(cap),
             test_acc="0.8", poisson_acc="0.4", repeat_acc="0.86", poisson_nll="2.7", poisson_nll_time="0.46",
             hawkes_nll="2.6", hawkes_alpha="1.5", hawkes_beta="3", tie_marks=str(tie), options="--x")
    return r


def write(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, HEADER)
        w.writeheader()
        w.writerows(rows)


def sd(v):
    m = sum(v) / len(v)
    return math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory() as d:
        runs, extra, out = (os.path.join(d, n) for n in ("runs.csv", "extra.csv", "out.md"))
        M = "mimic_events.csv"
        write(runs, [
            # aaren seed 1: 3e-4 has the better validation NLL (its test NLL is the worse one)
            row(M, "aaren", 1, 1e-3, 0.80, 1.20), row(M, "aaren", 1, 3e-4, 0.70, 1.30),
            # seed 2: 1e-3 wins on validation; the cap reached (epochs_run = max_epochs)
            row(M, "aaren", 2, 1e-3, 0.60, 1.10, epochs=100), row(M, "aaren", 2, 3e-4, 0.75, 1.00),
            # seed 3: one rate only: left out
            row(M, "aaren", 3, 1e-3, 0.10, 9.00),
            row(M, "transformer", 1, 1e-3, 0.7, 1.25), row(M, "transformer", 1, 3e-4, 0.8, 1.0),
            row(M, "transformer", 2, 1e-3, 0.7, 1.35), row(M, "transformer", 2, 3e-4, 0.9, 1.0),
            # Sin: one seed at one rate of the file's grid: no cell yet, named
            row("sin", "aaren", 1, 3e-4, 0.7, 0.75),
        ])
        copy = row(M, "transformer", 8, 1e-3, 0.4, 0.45)
        copy["options"] = "--data m.csv --copy-mark"
        lags = row(M, "transformer", 7, 3e-3, 0.4, 0.45)
        lags["options"] = "--data m.csv --tie-marks --copy-lags 16"
        write(extra, [row(M, "aaren", 9, 1e-3, 0.5, 0.5), row("wikipedia_events.csv", "aaren", 1, 1e-3, 13, 13.0, tie=1), copy,
                      lags])
        env = dict(os.environ, AAREN_SHARED=os.path.join(d, "none"))
        p = subprocess.run([sys.executable, os.path.join(here, "..", "python", "summarize_events.py"), runs, out, extra],
                           capture_output=True, text=True, env=env)
        check(p.returncode == 0, f"summarize_events.py runs: {p.stderr.strip()}")
        text = open(out).read() if p.returncode == 0 else ""
        lines = text.splitlines()
        a = next((l for l in lines if l.startswith("| MIMIC | aaren |")), "")
        want = f"{(1.30 + 1.10) / 2:.3f} ± {sd([1.30, 1.10]):.3f}"
        check(a.split(" | ")[2:5] == ["2", "1", want] if a else False,
              f"aaren cell: n 2, the validation-chosen test NLLs 1.30 and 1.10 -> {want}: {a!r}")
        t = next((l for l in lines if l.startswith("| MIMIC | transformer |")), "")
        want_t = f"{(1.25 + 1.35) / 2:.3f} ± {sd([1.25, 1.35]):.3f}"
        check(want_t in t, f"transformer cell {want_t}: {t!r}")
        check("seeds 3 left out" in text, "the seed run at one rate only is named as left out")
        check("1 of 2 chosen runs stopped at the epoch cap" in text, "the run at the epoch cap is counted")
        grid = [l for l in lines if l.startswith("| MIMIC | aaren | 0.0003") or l.startswith("| MIMIC | aaren | 0.001")]
        check(len(grid) == 2 and grid[0].endswith("| 1 |") and grid[1].endswith("| 1 |") and "| 3 |" in grid[1],
              f"grid rows: 3e-4 chosen once, 1e-3 chosen once over its 3 runs: {grid}")
        check(any(l.startswith(f"| `{extra}` | Wiki | aaren | 1 | tied |") for l in lines) and
              not any(l.startswith(f"| `{extra}` | MIMIC | aaren") for l in lines),
              "runs outside the grid: the Wiki row listed, the MIMIC one (a data set with a grid cell) not")
        check(any(l.startswith(f"| `{extra}` | MIMIC | transformer | 8 | untied + copy logit |") for l in lines),
              "runs outside the grid: a copy-logit run listed although MIMIC has a grid cell")
        check(any(l.startswith(f"| `{extra}` | MIMIC | transformer | 7 | untied + copy logits, 16 lags | 0.003 |") for l in lines),
              "runs outside the grid: a run with copy logits over 16 lags listed with its count of lags")
        check("Sin (synthetic) aaren: no seed run at every learning rate of the grid yet (seeds 1 partly run)" in text and
              not any(l.startswith("| Sin (synthetic) | aaren | 1 |") for l in lines),
              "a data set whose only seed misses a rate of the file's grid gets no cell and a note")
        check("MIMIC's" not in text or "TEST gaps" not in text, "no data file: no line read from it")
    return done("test_summarize_events")


if __name__ == "__main__":
    sys.exit(main())
