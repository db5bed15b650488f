"""Writes results/rl-data.md: the behaviour policies and the offline data sets of each
environment, from the logs of `aaren rl make-data` and `aaren rl info` on its files.
usage: summarize_rl_data.py AAREN DATA_DIR LOG_DIR OUT.md
LOG_DIR holds ENV.log (make-data's standard output) and ENV-ars.csv (its training log)."""
import os
import platform
import re
import subprocess
import sys

from results_table import write_md

ENVS = ["halfcheetah", "hopper", "walker2d", "ant"]
SETS = ["medium", "medium-replay", "medium-expert"]
# D4RL's reference returns (d4rl/infos.py), the ends of the normalised score.
REF = {"halfcheetah": (-280.178953, 12135.0), "hopper": (-20.272305, 3234.3),
       "walker2d": (1.629008, 4592.3), "ant": (-325.6, 3879.7)}
# D4RL v2 sizes as ../shared/data/rl/SOURCE.md gives them (from the D4RL file listing).
D4RL_SIZE = {"medium": "1M", "medium-replay": "0.2M-0.4M", "medium-expert": "2M"}


def info(aaren, path):
    r = subprocess.run([aaren, "rl", "info", "--data", path], capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"rl info failed on {path}: {r.stderr.strip()}")
    return dict(l.split(": ", 1) for l in r.stdout.splitlines() if ": " in l)


def main(aaren, data_dir, log_dir, dst):
    out = ["# Offline RL data sets (rebuilt the way D4RL made its v2 locomotion data)", "",
           "Produced by `bash scripts/reproduce_rl_data.sh`, which runs, for each environment, "
           "`aaren rl make-data --env ENV --seed 0` (defaults: 100,000 transitions per data set, action noise 0.1 while "
           "collecting, the ARS budget of `src/rl/ars.c`) and `aaren rl info` on every file. Generation is "
           "deterministic for the seed whatever the thread count; it ran single-threaded, two environments at a "
           f"time, on this machine ({platform.machine()}, 2 cores). Logs: `results/rl-data/`.", "",
           "Behaviour policies: linear, trained by Augmented Random Search (V2-t). *Medium* is the first evaluated "
           "policy whose mean return reaches a third of D4RL's expert reference return (D4RL's rule for its medium "
           "policies); *expert* is the best evaluated policy of the budget. Returns below are fresh evaluations "
           "(10 episodes, no action noise, reset streams never used in training).", "",
           "| env | ARS episodes | ARS time | medium policy return (score) | expert policy return (score) |",
           "|---|---|---|---|---|"]
    rows = []
    for env in ENVS:
        log = os.path.join(log_dir, f"{env}.log")
        if not os.path.exists(log):
            continue
        text = open(log).read()
        m = re.search(r"ARS (\d+) episodes, (\d+) steps, ([\d.]+) s", text)
        pol = {k: re.search(rf"{k} policy\s+return\s+(\S+) \+-\s+(\S+)\s+length\s+\S+\s+score\s+(\S+)", text)
               for k in ("medium", "expert")}
        cell = lambda p: f"{float(p.group(1)):.0f} ± {float(p.group(2)):.0f} ({float(p.group(3)):.1f})" if p else "-"
        out.append(f"| {env} | {m.group(1) if m else '-'} | {float(m.group(3)) / 60:.1f} min | {cell(pol['medium'])} | "
                   f"{cell(pol['expert'])} |" if m else f"| {env} | - | - | - | - |")
        for ds in SETS:
            path = os.path.join(data_dir, f"{env}-{ds}.hdf5")
            if os.path.exists(path):
                rows.append((env, ds, info(aaren, path)))
    out += ["", "Data sets (returns are per episode in the file: sums of its rewards; the last episode of a file "
            "may be cut, as in D4RL's files; the normalised score is D4RL's, of the mean return):", "",
            "| data set | transitions | episodes (terminated / timed out / unfinished) | return mean ± std | "
            "min / max | normalised score | D4RL v2 transitions |", "|---|---|---|---|---|---|---|"]
    for env, ds, i in rows:
        out.append(f"| {env}-{ds} | {int(i['transitions']):,} | {i['episodes']} ({i['terminated']} / {i['timed_out']} / "
                   f"{i['unfinished']}) | {float(i['return_mean']):.1f} ± {float(i['return_std']):.1f} | "
                   f"{float(i['return_min']):.0f} / {float(i['return_max']):.0f} | {float(i['normalized_score']):.1f} | "
                   f"{D4RL_SIZE[ds]} |")
    out += ["", "Against D4RL: our files are a tenth of D4RL's size (the `--size` flag restores 1M); D4RL's behaviour "
            "policies were SAC networks trained online, ours are linear ARS policies, so the return distributions "
            "differ. D4RL's transition counts come from `../shared/data/rl/SOURCE.md`; per-file return statistics of "
            "the original files were not available from any source readable here, so no return column is given "
            "for them. D4RL's expert reference returns, the ends of the normalised score: "
            + ", ".join(f"{e} {REF[e][1]:g}" for e in ENVS) + " (random: "
            + ", ".join(f"{e} {REF[e][0]:g}" for e in ENVS) + ").", "",
            "Notes. ARS times are wall-clock on one thread while three or four other jobs shared the two cores "
            "(the Walker2d budget of 40,000 episodes, 30M steps, took 79 min so). ARS runs its directions on all "
            "threads: on this machine unloaded, two threads step Walker2d's ARS at about 19,000 steps/s (357,400 "
            "steps in 18.7 s, evaluations included), so the same budget takes about 26 min. The HalfCheetah medium data hold "
            "less than the medium policy's return: with action noise 0.1 the linear policy sometimes flips the "
            "cheetah onto its back (episodes near 0 or below); `--action-noise` sets the noise. Ant's budget is the "
            "smallest (its simulation is the slowest), and its expert is the weakest relative to D4RL's reference.", ""]
    write_md(dst, out)


if __name__ == "__main__":
    main(*sys.argv[1:5])
