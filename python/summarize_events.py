"""Writes the event-forecasting results (results/events.md) from the runs CSV of
scripts/reproduce_events.sh (results/events_runs_v2.csv): for every data set, architecture and
seed the learning rate with the best validation NLL among the grid's runs, then mean ± sample
standard deviation over seeds of the TEST figures, beside the Poisson and Hawkes baselines.
Runs outside the grid (other CSVs of `aaren events --results-csv`, e.g. a trial of a new option)
are listed one row each after the grid's tables, for marked data sets the grid has no cell of yet.
usage: summarize_events.py RUNS.csv OUT.md [EXTRA.csv ...]"""
import csv
import math
import os
import platform
import statistics
import sys
from collections import defaultdict

from results_table import mean_std, mean_std_wide, write_md

NAMES = {"sin": "Sin (synthetic)", "mimic_events.csv": "MIMIC", "wikipedia_events.csv": "Wiki"}
ARCHS = ("aaren", "transformer")


def fmt(vals, p=3):
    return mean_std(vals, p, with_n=False)


def read_runs(path):
    """{(data, arch): {seed: {lr: row}}}; a run seen twice counts once (its last row), named on stderr."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    runs = defaultdict(lambda: defaultdict(dict))
    for r in rows:
        lr = float(r["lr"])
        cell = runs[(r["data"], r["arch"])][r["seed"]]
        if lr in cell:
            print(f"{path}: {r['data']} {r['arch']} seed {r['seed']} lr {lr:g} appears more than once; the last row counts",
                  file=sys.stderr)
        cell[lr] = r
    return runs


GRID = set()   # the learning rates of the whole runs file: every data set's grid (set by main)


def chosen(seeds):
    """Per seed the row whose learning rate has the lowest validation NLL, over the seeds that have
    been run at every rate of the grid (a grid cut short leaves the others out)."""
    return [min(by_lr.values(), key=lambda r: float(r["val_nll"])) for _, by_lr in sorted(seeds.items())
            if set(by_lr) >= GRID]


def incomplete(seeds):
    return sorted((s for s, by_lr in seeds.items() if not set(by_lr) >= GRID), key=int)


def col(rows, k):
    return [float(r[k]) for r in rows]


def copy_lags(options):
    """Copy lags of a run from its options column: 0 none, 1 --copy-mark, L --copy-lags L."""
    words = options.split()
    if "--copy-lags" in words[:-1]:
        return int(words[words.index("--copy-lags") + 1].strip("'"))
    return 1 if "--copy-mark" in words else 0


def extra_runs(paths, skip):
    """Rows of other runs CSVs on marked data sets not in skip, and rows with the copy logit
    (--copy-mark in their options column: a head the grid does not have) on any, one line each
    (older files lack the lr and tie_marks columns: their runs were at lr 1e-3 with an untied head)."""
    out = []
    for path in paths:
        with open(path, newline="") as f:
            for r in csv.DictReader(f):
                copy = copy_lags(r.get("options", ""))
                if math.isnan(float(r["test_acc"])) or (r["data"] in skip and not copy):
                    continue
                head = ("tied" if r.get("tie_marks", "0") == "1" else "untied") + (
                    f" + copy logits, {copy} lags" if copy > 1 else " + copy logit" if copy else "")
                out.append(f"| `{path}` | {NAMES.get(r['data'], r['data'])} | {r['arch']} | {r['seed']} | {head} | "
                           f"{float(r.get('lr', '0.001')):g} | {r['best_epoch']} / {r['epochs_run']} | "
                           f"{float(r['test_nll']):.3f} | {float(r['test_nll_mark']):.3f} | {float(r['test_acc']):.3f} | "
                           f"{float(r['poisson_nll']) - float(r['poisson_nll_time']):.3f} / {float(r['poisson_acc']):.3f} | "
                           f"{float(r['repeat_acc']):.3f} |" if "repeat_acc" in r else
                           f"| `{path}` | {NAMES.get(r['data'], r['data'])} | {r['arch']} | {r['seed']} | {head} | "
                           f"{float(r.get('lr', '0.001')):g} | {r['best_epoch']} / {r['epochs_run']} | "
                           f"{float(r['test_nll']):.3f} | {float(r['test_nll_mark']):.3f} | {float(r['test_acc']):.3f} | "
                           f"{float(r['poisson_nll']) - float(r['poisson_nll_time']):.3f} / {float(r['poisson_acc']):.3f} | - |")
    if not out:
        return []
    return ["", "## Runs outside the grid (marked data)", "",
            "Each row one run as recorded, not a selected or averaged cell; budgets differ from the grid's (see the "
            "options column of each file); listed for data sets without a grid cell yet, and every run with copy logits "
            "(`--copy-mark`: a learned logit on the current event's mark; `--copy-lags L`: one per lag on the marks of "
            "the last L events; heads the grid of this file does not have). Baseline: the training mark frequencies' mark NLL and accuracy.", "",
            "| file | data set | model | seed | mark head | lr | best / run epochs | NLL | mark NLL | mark acc | "
            "frequencies mark NLL / acc | repeat current mark acc |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"] + out


def main(src, dst, extra=()):
    with open(src, newline="") as f:
        copy = max((copy_lags(r.get("options", "")) for r in csv.DictReader(f)), default=0)
    runs = read_runs(src)
    GRID.update(lr for cell in runs.values() for by_lr in cell.values() for lr in by_lr)
    datas = sorted({d for d, _ in runs}, key=lambda d: (list(NAMES).index(d) if d in NAMES else len(NAMES), d))
    head = (f"Produced by `bash scripts/reproduce_events.sh --copy-lags {copy}` from `{os.path.relpath(src)}` (one row "
            "per run, with its seed, learning rate, epochs, run time, thread count and the command line that reruns it). "
            "The grid of `results/events.md` with one change, the same for both architectures: copy logits on the marks of "
            f"the last {copy} events (`--copy-lags {copy}`), one learned number per lag added to the logit of that lag's "
            "mark, each starting where it gives its mark the training split's rate of a next mark equal to it and to no "
            "more recent one." if copy > 1 else
            "Produced by `bash scripts/reproduce_events.sh --copy-mark` from `results/events_copy_runs.csv` (one row "
            "per run, with its seed, learning rate, epochs, run time, thread count and the command line that reruns it). "
            "The grid of `results/events.md` with one change, the same for both architectures: the copy logit "
            "(`--copy-mark`), a learned number added to the logit of the current event's mark, starting where it gives "
            "that mark the training split's repeat rate." if copy else
            "Produced by `bash scripts/reproduce_events.sh` from `results/events_runs_v2.csv` (one row per run, with its "
            "seed, learning rate, epochs, run time, thread count and the command line that reruns it). The table of the "
            "earlier protocol (fixed learning rate, per-event NLL only, at most 30 epochs) is in the git history with "
            "its runs in `results/events_runs.csv`.")
    out = ["# Event forecasting (neural TPP): Aaren vs Transformer" + (
        f", with copy logits on the last {copy} marks" if copy > 1 else ", with the copy logit" if copy else ""), "",
           head, "",
           "## Protocol", "",
           "Model, the same for both architectures: each event enters as a mark embedding plus THP's sinusoidal temporal "
           "encoding plus its standardised log inter-event time; the encoder (d_model 64, 4 heads, 2 layers, d_ff 128, "
           "dropout 0.1); a mixture of 8 log-normals over the next inter-event time and a categorical over the next mark, "
           "from the encoder output at every event. Training: NLL of every next event, batch 16 sequences, Adam at a "
           "constant learning rate, gradient norm clipped at 1, early stopping on validation NLL (MIMIC and Sin: patience "
           "10 within at most 100 epochs; Wiki: patience 3 within 30 and the mark head tied to the mark embedding). "
           "Learning rate: each seed is run at every rate of the grid (the rates found in the runs file) and the rate with "
           "the best validation NLL is kept for that seed (the grid and every run's validation NLL are in the second table). Every run on one thread.", "",
           "Splits: MIMIC as distributed (train/dev/test: 527/58/65 sequences; one fold of THP's five, which one is not "
           "known: see the data's SOURCE.md); Wiki in file order 60/20/20; Sin 1000 generated sequences, 60/20/20.", "",
           "Metrics on TEST, per predicted event (every event but the first of each sequence; n events in the table):",
           "- NLL: our training loss, time part (in the file's time units) plus mark part.",
           "- LL (THP form): the sum over events of log intensity at the event (times the mark probability) minus the "
           "integral of the total intensity over each sequence's observed window, divided by the events. The window runs "
           "from the first event to the last (MIMIC, Wiki: the files give no observation end) or to the horizon (Sin, "
           "so the survival after the last event counts). Without a window end it equals minus the NLL exactly (checked "
           "in test_tpp_ll); THP's own code also integrates only up to the last event, but divides by all events "
           "including each sequence's first and adds the first event's log intensity.",
           "- RMSE of the predicted mean and of the predicted median of the next inter-event time, in the file's units.",
           "- Mark accuracy of the most probable next mark.", "",
           "Baselines, fitted on TRAIN, the same for every seed: a homogeneous Poisson process and a Hawkes process "
           "(exponential kernel, one process for all marks, maximum likelihood), both with the training mark "
           "frequencies (add-one smoothed; accuracy of the most frequent mark); and the accuracy of guessing that the "
           "next mark repeats the current one.", "",
           f"Machine of the summary: {platform.machine()}, {platform.system()}; see the CSV for threads and seconds per run "
           "(wall time on a machine shared with other work: not a speed comparison; `aaren bench` measures speed).",
           "Values are mean ± sample standard deviation over seeds; n = seeds.", "",
           "## Results", "",
           "| data set | model | n | test events | NLL | LL (THP form) | time NLL | RMSE mean | RMSE median | mark acc | "
           "best epoch (max) / cap | s/run |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    notes = []
    for ds in datas:
        name = NAMES.get(ds, ds)
        first = None
        for arch in ARCHS:
            seeds = runs.get((ds, arch))
            if not seeds:
                continue
            rows = chosen(seeds)
            if not rows:
                notes.append(f"{name} {arch}: no seed run at every learning rate of the grid yet (seeds "
                             f"{', '.join(incomplete(seeds))} partly run).")
                continue
            first = first or rows[0]
            marked = not math.isnan(float(rows[0]["test_acc"]))
            acc = fmt(col(rows, "test_acc")) if marked else "unmarked"
            be = col(rows, "best_epoch")
            out.append(f"| {name} | {arch} | {len(rows)} | {rows[0]['n_test_pred']} | {fmt(col(rows, 'test_nll'))} | "
                       f"{fmt(col(rows, 'test_ll'))} | {fmt(col(rows, 'test_nll_time'))} | {mean_std_wide(col(rows, 'test_rmse'))} | "
                       f"{mean_std_wide(col(rows, 'test_rmse_median'))} | {acc} | {statistics.mean(be):.1f} ({max(be):.0f}) / "
                       f"{rows[0]['max_epochs']} | {statistics.mean(col(rows, 'seconds')):.0f} |")
            if incomplete(seeds):
                notes.append(f"{name} {arch}: seeds {', '.join(incomplete(seeds))} left out: not yet run at every "
                             "learning rate of the grid.")
            capped = sum(1 for r in rows if int(r["epochs_run"]) >= int(r["max_epochs"]))
            if capped:
                notes.append(f"{name} {arch}: {capped} of {len(rows)} chosen runs stopped at the epoch cap, not by patience.")
        if first is None:
            continue
        marked = not math.isnan(float(first["test_acc"]))
        f = lambda k, p=3: f"{float(first[k]):.{p}f}"
        wide = lambda k: mean_std_wide([float(first[k])])
        pacc = f("poisson_acc") if marked else "unmarked"
        hacc = f("hawkes_acc") if marked else "unmarked"
        pnll_time = float(first["poisson_nll_time"])
        out.append(f"| {name} | Poisson | - | {first['n_test_pred']} | {f('poisson_nll')} | {f('poisson_ll')} | "
                   f"{pnll_time:.3f} | {wide('poisson_rmse')} | {wide('poisson_rmse_median')} | {pacc} | - | - |")
        out.append(f"| {name} | Hawkes | - | {first['n_test_pred']} | {f('hawkes_nll')} | {f('hawkes_ll')} | "
                   f"{f('hawkes_nll_time')} | {wide('hawkes_rmse')} | {wide('hawkes_rmse_median')} | {hacc} | - | - |")
        if marked:
            out.append(f"| {name} | repeat current mark | - | {first['n_test_pred']} | - | - | - | - | - | "
                       f"{f('repeat_acc')} | - | - |")
        notes.append(f"{name}: Hawkes fit mu {float(first['hawkes_mu']):.4g}, alpha {float(first['hawkes_alpha']):.4g}, "
                     f"beta {float(first['hawkes_beta']):.4g} (branching ratio "
                     f"{float(first['hawkes_alpha']) / float(first['hawkes_beta']):.3f}).")
    out += [""] + [f"- {n}" for n in notes]

    # the learning-rate grid: validation NLL per rate, and how often each was chosen
    out += ["", "## Learning-rate grid (validation NLL, mean ± sd over seeds; chosen: seeds that kept the rate)", "",
            "| data set | model | lr | n | val NLL | test NLL | chosen |", "|---|---|---|---|---|---|---|"]
    for ds in datas:
        for arch in ARCHS:
            seeds = runs.get((ds, arch))
            if not seeds:
                continue
            picked = defaultdict(int)
            for r in chosen(seeds):
                picked[float(r["lr"])] += 1
            for lr in sorted({lr for by_lr in seeds.values() for lr in by_lr}):
                rows = [by_lr[lr] for by_lr in seeds.values() if lr in by_lr]
                out.append(f"| {NAMES.get(ds, ds)} | {arch} | {lr:g} | {len(rows)} | {fmt(col(rows, 'val_nll'))} | "
                           f"{fmt(col(rows, 'test_nll'))} | {picked[lr]} |")
    out += extra_runs(extra, set(datas))
    out += reading(runs, datas)
    write_md(dst, out)


def test_gaps(data):
    """The TEST split's inter-event gaps of a data file under $AAREN_SHARED (default ../shared), or
    None when the file is not there (MIMIC only: its split column)."""
    if data != "mimic_events.csv":
        return None
    path = os.path.join(os.environ.get("AAREN_SHARED", "../shared"), "data", "events", "MIMIC", data)
    if not os.path.exists(path):
        return None
    seqs = defaultdict(list)
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r["split"] == "test":
                seqs[r["seq_id"]].append(float(r["time_since_start"]))
    return [t[i] - t[i - 1] for t in seqs.values() for i in range(1, len(t))]


def reading(runs, datas):
    """What the tables show, stated from their numbers (so it stays true when they change), then
    the published figures, the deviations from the published protocols, and what is not run yet."""
    out = ["", "## Reading the tables", ""]
    for ds in datas:
        name = NAMES.get(ds, ds)
        sel = {a: chosen(runs[(ds, a)]) for a in ARCHS if (ds, a) in runs and chosen(runs[(ds, a)])}
        if not sel:
            continue
        first = next(iter(sel.values()))[0]
        n_ev = int(first["n_test_pred"])
        marked = not math.isnan(float(first["test_acc"]))
        for a, rows in sel.items():
            nll, rm, rmed = col(rows, "test_nll"), col(rows, "test_rmse"), col(rows, "test_rmse_median")
            s = statistics.stdev(nll) if len(nll) > 1 else 0.0
            beats = [b for b, k in (("Poisson", "poisson_nll"), ("Hawkes", "hawkes_nll"))
                     if statistics.mean(nll) + s < float(first[k])]
            line = (f"- {name}, {a} (n = {len(rows)} seeds, {n_ev} test events): NLL {statistics.mean(nll):.3f}; "
                    f"{'below ' + ' and '.join(beats) + ' by more than one sd' if beats else 'not below both baselines by more than one sd'}. "
                    f"RMSE of the mean {statistics.mean(rm):.4g} (sd {statistics.stdev(rm) if len(rm) > 1 else 0:.3g}, "
                    f"seeds from {min(rm):.4g} to {max(rm):.4g}), of the median {statistics.mean(rmed):.4g} "
                    f"(sd {statistics.stdev(rmed) if len(rmed) > 1 else 0:.3g}); Poisson's constant mean "
                    f"{float(first['poisson_rmse']):.4g}, Hawkes's mean {float(first['hawkes_rmse']):.4g}.")
            pr = float(first["poisson_rmse"])
            line += (f" Neither point forecast is below the constant mean's RMSE." if min(statistics.mean(rm), statistics.mean(rmed)) >= pr
                     else f" The {'median' if statistics.mean(rmed) < statistics.mean(rm) else 'mean'}'s RMSE is below the constant mean's.")
            if marked:
                line += (f" Mark accuracy {statistics.mean(col(rows, 'test_acc')):.3f} against "
                         f"{float(first['repeat_acc']):.3f} for repeating the current mark and "
                         f"{float(first['poisson_acc']):.3f} for the most frequent training mark.")
            out.append(line)
        if len(sel) == 2:
            a, t = (col(sel[x], "test_nll") for x in ARCHS)
            d = statistics.mean(a) - statistics.mean(t)
            sd = max(statistics.stdev(a) if len(a) > 1 else 0, statistics.stdev(t) if len(t) > 1 else 0)
            out.append(f"- {name}: Aaren minus Transformer NLL {d:+.3f}, "
                       f"{'within' if abs(d) <= sd else 'beyond'} the larger of the two sds ({sd:.3f}).")
        for a, seeds in ((a, runs[(ds, a)]) for a in ARCHS if (ds, a) in runs):
            grid = sorted({lr for by_lr in seeds.values() for lr in by_lr})
            picks = [float(r["lr"]) for r in chosen(seeds)]
            for edge, word in ((grid[0], "lowest"), (grid[-1], "highest")):
                if len(grid) > 1 and picks and 2 * picks.count(edge) >= len(picks):
                    out.append(f"- {name}, {a}: the grid's {word} learning rate ({edge:g}) was chosen for "
                               f"{picks.count(edge)} of {len(picks)} seeds: the best rate may lie beyond the grid.")
        if ds == "mimic_events.csv":
            out.append(f"- MIMIC's test set is small: {n_ev} predicted events in 65 sequences, and the ± above is over "
                       "seeds only, not over the choice of test events.")
    out += ["- On RMSE: the squared error is smallest for the conditional mean, so a median forecast is not expected to "
            "win on RMSE; it is reported because the mean of a log-normal mixture with a heavy upper tail is unstable "
            "(one wide component moves it a lot), as the spread of the mean's RMSE over seeds beside the "
            "median's shows."]
    gaps = test_gaps("mimic_events.csv") if "mimic_events.csv" in datas else None
    same = ""
    if gaps:
        m = statistics.mean(gaps)
        sd = math.sqrt(statistics.mean([(g - m) ** 2 for g in gaps]))
        out.append(f"- MIMIC's {len(gaps)} TEST gaps (read from the data file, in its units) have mean {m:.4f}, largest "
                   f"{max(gaps):.3f} and standard deviation {sd:.4f}: the RMSE of a constant forecast at the test set's "
                   "own mean gap, the lowest RMSE any constant forecast can reach there.")
        same = (f" On our fold that published 0.82 equals, to its two digits, the {sd:.4f} a constant forecast at the "
                "test set's own mean gap scores (above); THP's fold may differ.")
    out += ["", "## Published figures and deviations", "",
            "- THP (Zuo et al., ICML 2020, arXiv 2002.09291) reports an event-time RMSE of 0.82 on MIMIC-II (its table of "
            "time-prediction RMSE: RMTPP 6.12, NHP 6.13, THP 0.82). That RMSE is of a separate point forecast: THP's code "
            "(SimiaoZuo/Transformer-Hawkes-Process, Utils.time_loss and Main.py) predicts each gap with a linear layer "
            "trained on squared error, not the mean of its intensity's distribution; it is computed on the differences of "
            "the file's time_since_start, the same units as ours (this MIMIC copy has the THP files' normalised times), "
            "but THP's README says that its reported RMSEs are not always in the files' time units. THP's code also "
            "evaluates every epoch on the test split and reports the best value over epochs; we select on the dev "
            "split. Our MIMIC is one of THP's five folds (which one is not known). THP's log-likelihood and accuracy "
            "figures are not quoted here: they were not checked against the paper in this session." + same,
            "- Our log-likelihood in THP's form differs from THP's own in its divisor and its first event: THP divides "
            "by every event including each sequence's first and adds that first event's log intensity; we condition on "
            "the first event (the window starts there) and divide by the predicted events.",
            "- Baselines: the Hawkes process is univariate over all marks (a multivariate one over 75 MIMIC marks would "
            "have 5,700 excitations for 1,930 training events; over 8,227 Wiki marks 68 million), with the Poisson "
            "baseline's mark frequencies.", ""]
    return out


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
