"""Writes the offline-RL table (D4RL normalised score, mean ± std over seeds, Decision
Transformer and Decision Aaren side by side) from the runs CSV of scripts/reproduce_rl.sh.
A CSV of the newer layout (issue 21's protocol: columns model, target_kind, updates_at, ...)
gets a table per target kind with the behaviour-cloning baseline beside the decision models,
and a learning-curve table (score against updates), each from the rows that exist.
usage: summarize_rl.py RUNS.csv OUT.md"""
import csv
import math
import os
import platform
import statistics
import sys
from results_table import mean_std, read_groups, write_md

ENVS = ["halfcheetah", "hopper", "walker2d", "ant"]
SETS = ["medium", "medium-replay", "medium-expert"]
# Decision Transformer, Chen et al. 2021 (arXiv 2106.01345), Table 2: D4RL v2 gym locomotion,
# mean ± std over 3 seeds. The paper has no Ant rows.
PUBLISHED_DT = {
    ("halfcheetah", "medium"): "42.6 ± 0.1", ("hopper", "medium"): "67.6 ± 1.0", ("walker2d", "medium"): "74.0 ± 1.4",
    ("halfcheetah", "medium-replay"): "36.6 ± 0.8", ("hopper", "medium-replay"): "82.7 ± 7.0",
    ("walker2d", "medium-replay"): "66.6 ± 3.0", ("halfcheetah", "medium-expert"): "86.8 ± 1.3",
    ("hopper", "medium-expert"): "107.6 ± 1.8", ("walker2d", "medium-expert"): "108.1 ± 0.2",
}
ROWS = [("transformer", "window-recompute", "Decision Transformer (K-step window, recomputed)"),
        ("aaren", "window-streams", "Decision Aaren (K-step window, K streams)"),
        ("aaren", "full-stream", "Decision Aaren (whole episode, one stream)")]


def col(rows, key):
    return [float(r[key]) for r in rows]


def data_scores(path):
    """{"env-set": normalised score of the data set's mean return} from the data-set table of
    rl-data.md (written by summarize_rl_data.py), or {} when the file is absent."""
    out = {}
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 7 and "-" in cells[0] and cells[0].split("-")[0] in ENVS:
                out[cells[0]] = cells[5]
    return out


def versus(a, b):
    """How seed scores a compare with b: 'within' when the means differ by no more than the
    larger sample std, else 'above' or 'below'; None without two seeds on each side."""
    if len(a) < 2 or len(b) < 2:
        return None
    d = statistics.mean(a) - statistics.mean(b)
    if abs(d) <= max(statistics.stdev(a), statistics.stdev(b)):
        return "within"
    return "above" if d > 0 else "below"


def reading(g, data):
    """Sentences comparing the columns data set by data set, computed from the runs."""
    out = []
    sets = [(e, d) for e in ENVS for d in SETS]
    for a_mode, name in (("window-streams", "windowed Decision Aaren"), ("full-stream", "whole-episode Decision Aaren")):
        by = {"within": [], "above": [], "below": []}
        for e, d in sets:
            a = col(g.get((e, d, "aaren", a_mode), []), "score")
            t = col(g.get((e, d, "transformer", "window-recompute"), []), "score")
            v = versus(a, t)
            if v:
                by[v].append(f"{e}-{d} {statistics.mean(a) - statistics.mean(t):+.1f}")
        parts = [f"{k} a seed spread on {len(v)} ({', '.join(v)})" if k == "within" else
                 f"{k} on {len(v)} ({', '.join(v)})" for k, v in by.items() if v]
        if parts:
            out.append(f"The {name} against the Decision Transformer: " + "; ".join(parts) + ".")
    above = {}
    for a, m, _ in ROWS:
        n = k = 0
        for e, d in sets:
            sc = col(g.get((e, d, a, m), []), "score")
            try:
                ref = float(data.get(f"{e}-{d}", "nan"))
            except ValueError:
                continue
            if sc and ref == ref:
                n += 1
                k += statistics.mean(sc) > ref
        above[m] = (k, n)
    if any(n for _, n in above.values()):
        t, w, f = above["window-recompute"], above["window-streams"], above["full-stream"]
        out.append(f"Above the data set's own mean score: the Transformer on {t[0]} of {t[1]} data sets, the windowed "
                   f"Aaren on {w[0]} of {w[1]}, the whole-episode Aaren on {f[0]} of {f[1]}.")
    return " ".join(out)


def cpu_name():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


# issue 21's protocol: columns (arch, mode, model) of the tables, when rows exist for them
PROTO_COLS = [("transformer", "window-recompute", "dt", "Decision Transformer"),
              ("aaren", "window-streams", "dt", "Decision Aaren (window)"),
              ("aaren", "full-stream", "dt", "Decision Aaren (whole episode)"),
              ("transformer", "window-recompute", "bc", "BC (Transformer network)"),
              ("aaren", "window-streams", "bc", "BC (Aaren network, window)"),
              ("aaren", "full-stream", "bc", "BC (Aaren network, whole episode)")]
KIND_TEXT = {"paper": "the Decision Transformer paper's target (hopper 3600, halfcheetah 12000, walker2d 5000, ant 6000)",
             "data-best": "the best episode return in the data set",
             "number": "a target given as a number"}


def is_protocol(src):
    with open(src, newline="") as f:
        return "target_kind" in (next(csv.reader(f), []) or [])


def protocol(src, dst):
    """The summary of a CSV in the newer layout (model, target_kind, updates_at, ...)."""
    g = read_groups(src, "env", "data", "arch", "mode", "model", "target_kind", "target", "updates_at", "steps")
    rows = [r for v in g.values() for r in v]
    final = [r for r in rows if not r["updates_at"]]
    curve = [r for r in rows if r["updates_at"]]
    seeds = sorted({int(r["seed"]) for r in rows})
    threads = sorted({r["threads"] for r in rows})
    steps = sorted({int(r["steps"]) for r in rows})
    data = data_scores(os.path.join(os.path.dirname(os.path.abspath(src)), "rl-data.md"))

    def cell(env, ds, st, kind, a, m, model, src_rows):
        """Scores of one table cell: a BC model's rows have no target (kind none)."""
        return [float(r["score"]) for r in src_rows if r["env"] == env and r["data"] == ds and int(r["steps"]) == st
                and r["arch"] == a and r["mode"] == m and r["model"] == model and (model == "bc" or r["target_kind"] == kind)]

    out = ["# Offline RL on issue 21's protocol: target returns, behaviour cloning, learning curves", "",
           f"Produced by `bash scripts/reproduce_rl.sh` with `--targets`, `--bc` and `--eval-every` (every evaluation is "
           f"a row of `{os.path.basename(src)}`: model `dt` or `bc`, the target and its kind, `updates_at` for a "
           "learning curve's point, empty for the final evaluation). Model, optimiser and data sets as in `rl.md`; the "
           "behaviour-cloning baseline (BC) is the same network without return-to-go tokens (per step the state and "
           "action tokens, the action from the state token), trained and evaluated the same way, without a target. "
           f"Seeds: {', '.join(map(str, seeds))}; cells give the D4RL normalised score, mean ± sample std over seeds "
           "(n seeds).", "",
           f"Machine (read when this table was written): {platform.machine()} {platform.system()}, {cpu_name()}, "
           f"{os.cpu_count()} cores, OpenBLAS; threads per run: {' or '.join(threads)} (the CSV's `threads`).", ""]
    kinds = [k for k in ("data-best", "paper", "number") if any(r["target_kind"] == k for r in final)]
    have_bc = [c for c in PROTO_COLS if c[2] == "bc" and any(r["model"] == "bc" and r["arch"] == c[0] and r["mode"] == c[1]
                                                           for r in final)]
    dt_cols = [c for c in PROTO_COLS if c[2] == "dt"]
    for kind in kinds or (["none"] if have_bc else []):
        eps = sorted({r["episodes"] for r in final if r["target_kind"] == kind or r["model"] == "bc"})
        title = f"## Target: {KIND_TEXT[kind]}" if kind != "none" else "## Behaviour cloning"
        out += [title, "", f"Final evaluation after each run's updates, {' or '.join(eps)} episodes per run. "
                "*target*: the mean target return of the row's runs; *data*: the normalised score of the data set's own "
                "mean return (`rl-data.md`).", ""]
        cols = (dt_cols if kind != "none" else []) + have_bc
        out += ["| data set | updates | " + " | ".join(c[3] for c in cols) + " | data | DT published | target |",
                "|---|---|" + "---|" * len(cols) + "---|---|---|"]
        for env in ENVS:
            for ds in SETS:
                for st in steps:
                    cells = [cell(env, ds, st, kind, a, m, model, final) for a, m, model, _ in cols]
                    if not any(cells[:len(cols) - len(have_bc)] if kind != "none" else cells):
                        continue
                    tg = [float(r["target"]) for r in final if r["env"] == env and r["data"] == ds and
                          int(r["steps"]) == st and r["target_kind"] == kind and r["model"] == "dt"]
                    tgt = f"{statistics.mean(tg):.0f}" if tg else "-"
                    out.append(f"| {env}-{ds} | {st} | " + " | ".join(mean_std(c, 1) for c in cells) +
                               f" | {data.get(f'{env}-{ds}', '-')} | {PUBLISHED_DT.get((env, ds), 'not reported')} | {tgt} |")
        out.append("")
    if final:
        out += ["*DT published*: the Decision Transformer paper (Chen et al. 2021, arXiv 2106.01345, Table 2: D4RL v2 "
                "data sets, 100,000 updates, mean ± std over 3 seeds, conditioned on its own targets); it has no Ant rows. "
                "Our data sets are rebuilt, not D4RL's: a reference, not a like-for-like comparison.", ""]
    if curve:
        out += ["## Learning curves", "",
                "Score against updates: every target evaluated on a copy of the weights every `--eval-every` updates "
                f"(episodes a point: {' or '.join(sorted({r['episodes'] for r in curve}))}; training is the same run, to "
                "the bit, as without these evaluations). Mean ± sample std over seeds (n seeds).", ""]
        ccols = [c for c in PROTO_COLS if any(r["arch"] == c[0] and r["mode"] == c[1] and r["model"] == c[2] for r in curve)]
        ckinds = [k for k in ("data-best", "paper", "number") if any(r["target_kind"] == k for r in curve)] or ["none"]
        for env in ENVS:
            for ds in SETS:
                for st in steps:
                    for kind in ckinds:
                        sub = [r for r in curve if r["env"] == env and r["data"] == ds and int(r["steps"]) == st]
                        if not any(r["model"] == "dt" and r["target_kind"] == kind for r in sub) and kind != "none":
                            continue
                        if not sub:
                            continue
                        label = f"target {kind}" if kind != "none" else "no target"
                        out += [f"{env}-{ds}, {st} updates a run, {label}" + (" (BC: no target)" if any(
                                    c[2] == "bc" for c in ccols) and kind != "none" else "") + ":", "",
                                "| updates | " + " | ".join(c[3] for c in ccols) + " |", "|---|" + "---|" * len(ccols)]
                        means = {c: [] for c in ccols}   # (updates, mean score) per column
                        for u in sorted({int(r["updates_at"]) for r in sub}):
                            at = [r for r in sub if int(r["updates_at"]) == u]
                            out.append(f"| {u} | " + " | ".join(mean_std(cell(env, ds, st, kind, a, m, model, at), 1)
                                                                 for a, m, model, _ in ccols) + " |")
                            for c in ccols:
                                v = [x for x in cell(env, ds, st, kind, c[0], c[1], c[2], at) if not math.isnan(x)]
                                if v:
                                    means[c].append((u, statistics.mean(v)))
                        parts = [f"{c[3]} {p[0][1]:.1f} at {p[0][0]} updates and {p[-1][1]:.1f} at {p[-1][0]}, "
                                 f"between {min(x for _, x in p):.1f} and {max(x for _, x in p):.1f} over its "
                                 f"{len(p)} points" for c, p in means.items() if len(p) > 1]
                        if parts:
                            out += ["", "Reading (computed from the table): " + "; ".join(parts) + "."]
                        out.append("")
    missing = [f"{e}-{d}" for e in ENVS for d in SETS if not any(r["env"] == e and r["data"] == d for r in rows)]
    if rows and missing:
        out += [f"No runs in this CSV: {', '.join(missing)}.", ""]
    write_md(dst, out)


def main(src, dst):
    if is_protocol(src):
        protocol(src, dst)
        return
    g = read_groups(src, "env", "data", "arch", "mode")
    steps = sorted({r["steps"] for rows in g.values() for r in rows})
    seeds = sorted({int(r["seed"]) for rows in g.values() for r in rows})
    threads = sorted({r["threads"] for rows in g.values() for r in rows})
    data = data_scores(os.path.join(os.path.dirname(os.path.abspath(src)), "rl-data.md"))
    out = ["# Offline RL: Decision Aaren vs Decision Transformer", "",
           "Produced by `bash scripts/reproduce_rl.sh` (every evaluation is a row of `results/rl_runs.csv`, with its "
           "seed, updates, target return, training time, per-step latency and agent memory). Data sets: our own, "
           "rebuilt the way D4RL built its v2 locomotion data (`aaren rl make-data`, see `results/rl-data.md`), so the "
           "published figures beside ours are a reference, not a like-for-like comparison.", "",
           "Model (both architectures; the encoder is the only difference): per step a return-to-go, a state and an "
           "action token, each with its own linear embedding plus a learned time-step embedding, then a LayerNorm; "
           "context K = 20 steps (60 tokens), 3 pre-norm blocks, width 128, 1 head, d_ff 512, dropout 0.1; actions "
           "from the state token's output through tanh; MSE on actions. AdamW lr 1e-4, weight decay 1e-4, gradient "
           "norm clipped at 0.25, batch 64 windows drawn in proportion to trajectory length, returns-to-go / 1000, "
           f"linear warm-up over a tenth of the updates. Updates per run: {', '.join(steps)} (the original trains "
           "100,000; scaled to this 2-core machine). Evaluation: 10 episodes per run, target return hopper 3600, "
           "halfcheetah 12000, walker2d 5000, ant 6000; the score of a run is D4RL's normalised score of its mean "
           f"return; the table gives mean ± sample std over seeds (n seeds; seeds {', '.join(map(str, seeds))}, "
           "every seed run is in the CSV). *Data* is the normalised score of the data set's own mean return "
           "(`rl-data.md`): what cloning the data on average would score.", "",
           f"Machine (read when this table was written, on the machine that ran the grid): {platform.machine()} "
           f"{platform.system()}, {cpu_name()}, {os.cpu_count()} cores, OpenBLAS; threads per run: "
           f"{' or '.join(threads)} (the CSV's `threads`), two shards side by side.", "",
           "| data set | Decision Transformer | Decision Aaren (window) | Decision Aaren (whole episode) | data | "
           "DT published | return T / A / A-full | train s T / A |",
           "|---|---|---|---|---|---|---|---|"]
    for env in ENVS:
        for ds in SETS:
            cells = [g.get((env, ds, a, m), []) for a, m, _ in ROWS]
            if not any(cells):
                continue
            sc = [mean_std(col(c, "score"), 1) for c in cells]
            ret = " / ".join(f"{statistics.mean(col(c, 'return_mean')):.0f}" if c else "-" for c in cells)
            tr = " / ".join(f"{statistics.mean(col(c, 'train_s')):.0f}" if c else "-" for c in cells[:2])
            out.append(f"| {env}-{ds} | {sc[0]} | {sc[1]} | {sc[2]} | {data.get(f'{env}-{ds}', '-')} | "
                       f"{PUBLISHED_DT.get((env, ds), 'not reported')} | {ret} | {tr} |")
    out += ["", "*DT published*: the Decision Transformer paper (Chen et al. 2021, arXiv 2106.01345, Table 2: D4RL "
            "v2 data sets: medium 1M transitions, medium-replay 0.2M-0.4M, medium-expert 2M; 100,000 updates, mean ± std over 3 seeds); "
            "it has no Ant rows. Our data sets are rebuilt, not D4RL's, so these are a reference, not a like-for-like "
            "comparison.",
            "", "Reading the table (computed from the runs; a difference counts when the means differ by more than "
            "the larger of the two seed stds; each data set with the difference of mean scores, Aaren minus "
            "Transformer): " + reading(g, data),
            "", "Every score is far below the published DT figures, which come from D4RL's data and 100x more "
            "updates. This grid has no behaviour-cloning baseline, so it cannot say how close these scores are to "
            "cloning the data (that baseline is part of the protocol in `rl-protocol.md`); the Data column gives the "
            "normalised score of the data's own mean return, the one reference this grid has. The whole-episode agent conditions Aaren on a context up to "
            "50x longer than the 20-step windows it was trained on: the constant memory makes that affordable, but "
            "the model was never trained on such contexts, the likely reason it falls behind the window on most data sets.",
            "", "## Inference cost during evaluation", "",
            "Mean wall time of one environment step's model work (the agent's act and reward calls, not the physics) "
            "and the bytes the agent holds for its context, averaged over the runs of each data set. The Transformer "
            "recomputes its window every step; Decision Aaren's window runs as K streams stepped together (constant "
            "memory); the whole-episode row is one stream (constant memory, whatever the episode length). Runs "
            "shared the machine with other jobs, so latencies are indicative; `results/rl-latency.md` holds a "
            "measurement on a quiet machine.", "",
            "| data set | µs/step T / A-window / A-full | agent bytes T / A-window / A-full |", "|---|---|---|"]
    for env in ENVS:
        for ds in SETS:
            cells = [g.get((env, ds, a, m), []) for a, m, _ in ROWS]
            if not any(cells):
                continue
            us = " / ".join(f"{statistics.mean(col(c, 'step_us')):.0f}" if c else "-" for c in cells)
            by = " / ".join(f"{int(statistics.mean(col(c, 'agent_bytes'))):,}" if c else "-" for c in cells)
            out.append(f"| {env}-{ds} | {us} | {by} |")
    missing = [f"{e}-{d}" for e in ENVS for d in SETS if not any(g.get((e, d, a, m)) for a, m, _ in ROWS)]
    partial = [f"{e}-{d}" for e in ENVS for d in SETS if f"{e}-{d}" not in missing and
               any(len(g.get((e, d, a, m), [])) < len(seeds) for a, m, _ in ROWS)]
    if missing:
        out += ["", f"Not run yet (the grid resumes where it stopped): {', '.join(missing)}."]
    if partial:
        out += ["", f"Partly run (a column short of seeds {', '.join(map(str, seeds))}; the grid resumes where it "
                f"stopped): {', '.join(partial)}."]
    out.append("")
    write_md(dst, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
