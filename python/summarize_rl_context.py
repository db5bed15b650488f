"""Writes the context length study (results/rl-context.md): Decision Aaren trained on K-step
windows (at the same steps per update, or as many windows), evaluated through the K-stream window and the
whole-episode stream, from the main grid's CSV (the K = 20 runs, and the Transformer for
reference) and the study's CSV (scripts/reproduce_rl_context.sh).
usage: summarize_rl_context.py RL_RUNS.csv CONTEXT_RUNS.csv OUT.md"""
import os
import platform
import statistics
import sys
from results_table import mean_std, read_groups, write_md
from summarize_rl import ENVS, SETS, col, cpu_name, data_scores, versus


def main(main_csv, ctx_csv, dst):
    base = read_groups(main_csv, "env", "data", "arch", "mode", "K", "batch")
    ctx = read_groups(ctx_csv, "env", "data", "arch", "mode", "K", "batch")
    data = data_scores(os.path.join(os.path.dirname(os.path.abspath(main_csv)), "rl-data.md"))
    sets = [(e, d) for e in ENVS for d in SETS if any(k[0] == e and k[1] == d for k in ctx)]
    # the study's training configurations (K, batch) and the seeds each has; (20, 64) is the main grid's
    cfg_seeds = {}
    for k, rows in ctx.items():
        cfg_seeds.setdefault((int(k[4]), int(k[5])), set()).update(r["seed"] for r in rows)
    configs = sorted(cfg_seeds, key=lambda c: (c[0], -c[1]))   # shortest window first
    seeds = sorted({int(r["seed"]) for rows in ctx.values() for r in rows})
    steps = sorted({r["steps"] for rows in ctx.values() for r in rows})

    def cell(e, d, mode, cfg, arch="aaren"):
        src = base if cfg == (20, 64) else ctx
        return src.get((e, d, arch, mode, str(cfg[0]), str(cfg[1])), [])

    def name(cfg):
        return f"K {cfg[0]}, batch {cfg[1]}"

    out = ["# Offline RL: Decision Aaren trained on longer contexts", "",
           "Produced by `bash scripts/reproduce_rl_context.sh` (every run is a row of `results/rl_context_runs.csv`; "
           "the K = 20 rows are the main grid's, `results/rl_runs.csv`, same data, seeds and updates). The model and "
           "optimiser are the main grid's (`results/rl.md`); only the training window K changes, and with it the "
           "batch: scaled to keep the steps per update of the main grid (64 windows of 20 steps = 1280 steps; "
           "K 50: 26 windows, K 100: 13) unless the row says otherwise. Updates per run: "
           f"{', '.join(steps)}; seeds {', '.join(map(str, seeds))} (mean ± sample std over seeds, n per cell; "
           "every seed in the CSV).", "",
           "The question: in the main grid the whole-episode agent (one stream over up to 1000 steps, constant "
           "memory) falls behind the 20-step window on most data sets, and it was only ever trained on 20-step "
           "windows. Does training on longer windows, which costs Aaren the same per token, close the gap?", "",
           f"Machine: {platform.machine()} {platform.system()}, {cpu_name()}, {os.cpu_count()} cores, OpenBLAS; one "
           "thread per run, two runs side by side.", "",
           "| data set | training window, batch | Aaren, whole episode | Aaren, K-step window | whole - window | "
           "Transformer, K 20 | data | train s | µs/step window / whole |",
           "|---|---|---|---|---|---|---|---|---|"]
    for e, d in sets:
        for cfg in [(20, 64)] + configs:
            full, win = cell(e, d, "full-stream", cfg), cell(e, d, "window-streams", cfg)
            first = cfg == (20, 64)
            if not (first or full or win):
                continue   # this configuration was not run on this data set
            tr = cell(e, d, "window-recompute", cfg, "transformer") if first else []
            gap = "-"
            if full and win:
                gap = f"{statistics.mean(col(full, 'score')) - statistics.mean(col(win, 'score')):+.1f}"
            ts = f"{statistics.mean(col(win or full, 'train_s')):.0f}" if (win or full) else "-"
            us = " / ".join(f"{statistics.mean(col(c, 'step_us')):.0f}" if c else "-" for c in (win, full))
            out.append(f"| {e}-{d} | {name(cfg)} | {mean_std(col(full, 'score'), 1)} | "
                       f"{mean_std(col(win, 'score'), 1)} | {gap} | {mean_std(col(tr, 'score'), 1) if first else ''} | "
                       f"{data.get(f'{e}-{d}', '-') if first else ''} | {ts} | {us} |")

    def against(a, b):
        v = versus(a, b)
        if not v:
            return None
        word = "within a seed spread of" if v == "within" else v
        return f"{word} K 20 ({statistics.mean(a) - statistics.mean(b):+.1f})"

    lines = []
    for e, d in sets:
        f20 = col(cell(e, d, "full-stream", (20, 64)), "score")
        w20 = col(cell(e, d, "window-streams", (20, 64)), "score")
        parts = []
        for cfg in configs:
            vf = against(col(cell(e, d, "full-stream", cfg), "score"), f20)
            vw = against(col(cell(e, d, "window-streams", cfg), "score"), w20)
            if vf and vw:
                parts.append(f"at {name(cfg)} the whole-episode agent is {vf}, the window {vw}")
        if parts:
            lines.append(f"{e}-{d}: " + "; ".join(parts) + ".")
    if lines:
        out += ["", "Reading the table (computed from the runs; a difference counts when the means differ by more "
                "than the larger of the two seed stds; in brackets the difference of mean scores against the same "
                "agent trained at K = 20, batch 64): " + " ".join(lines)]
    missing = [f"{e}-{d} {name(cfg)}" for e, d in sets for cfg in configs
               if 0 < len(cell(e, d, "full-stream", cfg)) < len(cfg_seeds[cfg])]
    if missing:
        out += ["", "Partly run (short of the seeds its configuration has elsewhere; the study resumes where it stopped): "
                f"{', '.join(missing)}."]
    out.append("")
    write_md(dst, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
