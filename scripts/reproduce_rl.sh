#!/usr/bin/env bash
# The offline-RL grid: environments x data sets x architectures x seeds. Each run trains a
# decision model with `aaren rl train` and evaluates it in the environment; every evaluation
# is a row of results/rl_runs.csv. Runs already in the CSV are skipped, so the grid resumes;
# --shard I/N runs every N-th combination from the I-th (0-based), so shards can run side by
# side (give each its own OMP_NUM_THREADS); a run another invocation is running is skipped
# (scripts/grid_claim.sh). Missing data sets are made first with
# `aaren rl make-data --seed 0` into --data-dir. Then writes results/rl.md from every run.
#
#   bash scripts/reproduce_rl.sh [--envs "hopper halfcheetah walker2d ant"]
#        [--sets "medium medium-replay medium-expert"] [--archs "aaren transformer"]
#        [--seeds "1 2 3 4 5"] [--steps 1000] [--episodes 10] [--data-dir rl_data]
#        [--data "hopper-medium-replay walker2d-medium"] [--K 20] [--batch 64]
#        [--runs results/rl_runs.csv] [--shard I/N] [--no-summary]
#        [--targets "data-best,paper"] [--bc] [--eval-every N] [--curve-episodes K]
#
# --data names the data sets (environment-set) instead of every --envs x --sets pair.
# --K and --batch change the context and the batch (scripts/reproduce_rl_context.sh uses them,
# with its own --runs CSV); a run is identified by environment, data set, architecture, seed,
# steps, batch and K. The summary (results/rl.md) is written only from the default CSV.
#
# Issue 21's protocol (these options need the newer CSV layout, so their runs go to
# results/rl_protocol_runs.csv unless --runs says otherwise, summarised in results/rl-protocol.md):
#   --targets LIST     target returns of every run, each evaluated on its own (rl train --target:
#                      numbers, data-best = the data set's best episode return, paper = the
#                      Decision Transformer paper's target) [paper]
#   --bc               adds the behaviour-cloning baseline as the arch value bc (the Transformer
#                      network without return tokens, rl train --no-returns); --archs may also
#                      name bc, and bc-aaren (the Aaren network without return tokens)
#   --eval-every N     a learning curve: every target evaluated every N updates with
#   --curve-episodes K episodes [10] (rows with updates_at)
# A run is then identified by environment, data set, arch, seed, steps, batch, K, episodes,
# eval-every, curve episodes and the targets: it is done when its final rows hold every target.
#
# Model and optimiser (both architectures): the minimal Decision Transformer's settings,
# context K = 20 steps, 3 blocks, width 128, one head, d_ff 512, pre-norm, dropout 0.1,
# batch 64, AdamW lr 1e-4, weight decay 1e-4, gradient norm clipped at 0.25, returns-to-go
# scaled by 1000, linear warm-up over min(10000, steps / 10) steps. The number of updates is
# scaled to this machine: --steps (default 1000, against the original 100000).
set -euo pipefail
cd "$(dirname "$0")/.."
envs="hopper halfcheetah walker2d ant"
sets="medium medium-replay medium-expert"
archs="aaren transformer"
seeds="1 2 3 4 5"
steps=1000
episodes=10
data_dir=rl_data
shard="0/1"
summary=1
names=
K=20
batch=64
runs=
targets=paper
bc=0
eval_every=0
curve_episodes=10
while [ $# -gt 0 ]; do
  case "$1" in
    --envs) envs="$2"; shift 2 ;;
    --sets) sets="$2"; shift 2 ;;
    --archs) archs="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --episodes) episodes="$2"; shift 2 ;;
    --data-dir) data_dir="$2"; shift 2 ;;
    --shard) shard="$2"; shift 2 ;;
    --data) names="$2"; shift 2 ;;
    --K) K="$2"; shift 2 ;;
    --batch) batch="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --no-summary) summary=0; shift ;;
    --targets) targets="$2"; shift 2 ;;
    --bc) bc=1; shift ;;
    --eval-every) eval_every="$2"; shift 2 ;;
    --curve-episodes) curve_episodes="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
si="${shard%/*}"; sn="${shard#*/}"
if [ "$bc" = 1 ] && [[ " $archs " != *" bc "* ]]; then archs="$archs bc"; fi
# the older CSV layout takes runs of one paper/number target with return tokens and no curve only
protocol=0
if [ "$targets" != paper ] || [ "$eval_every" != 0 ] || [[ " $archs " == *" bc"* ]]; then protocol=1; fi
if [ -z "$runs" ]; then
  runs=results/rl_runs.csv; [ "$protocol" = 1 ] && runs=results/rl_protocol_runs.csv
fi
curve_k=0; [ "$eval_every" != 0 ] && curve_k="$curve_episodes"
# run_done RUNS ENV SET ARCH MODEL LASTMODE SEED: the run's final rows (newer layout) hold every target
run_done() {
  awk -F, -v env="$2" -v set="$3" -v arch="$4" -v model="$5" -v mode="$6" -v seed="$7" -v steps="$steps" \
      -v batch="$batch" -v K="$K" -v eps="$episodes" -v every="$eval_every" -v ck="$curve_k" -v targets="$targets" '
    NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; if (!("target_kind" in c)) exit 1; next }
    $c["env"] == env && $c["data"] == set && $c["arch"] == arch && $c["model"] == model && $c["mode"] == mode &&
    $c["seed"] == seed && $c["steps"] == steps && $c["batch"] == batch && $c["K"] == K && $c["episodes"] == eps &&
    $c["updates_at"] == "" && $c["eval_every"] == every && $c["curve_episodes"] == ck {
      have[$c["target_kind"]] = 1; have["number:" ($c["target"] + 0)] = 1 }
    END {
      if (model == "bc") exit !("none" in have)
      n = split(targets, t, ",")
      for (i = 1; i <= n; i++) {
        k = t[i]; if (k != "paper" && k != "data-best") k = "number:" (t[i] + 0)
        if (!(k in have)) exit 1
      }
      exit 0
    }' "$1"
}
mkdir -p "$(dirname "$runs")" "$data_dir"
# AAREN_BIN: the binary to run (default build/aaren); give a copy when rebuilding meanwhile
bin="${AAREN_BIN:-build/aaren}"
[ -x "$bin" ] || bash scripts/build.sh
. scripts/grid_claim.sh
# rl_run_done ENV SET ARCH NET MODEL LASTMODE SEED STEPS BATCH K EPISODES...: the runs file holds that run's
# final rows (STEPS onwards: this invocation's settings, named so that they key the run's lock too)
rl_run_done() {
  [ -f "$runs" ] || return 1
  if [ "$protocol" = 0 ]; then grep -q "^$1,$2,$3,$6,$7,$8,$9,${10}," "$runs"
  else run_done "$runs" "$1" "$2" "$4" "$5" "$6" "$7"; fi
}
xml="${AAREN_MUJOCO_XML:-${AAREN_SHARED:-../shared}/data/rl/mujoco_xml}"
if [ -z "$names" ]; then
  for env in $envs; do for set in $sets; do names="$names $env-$set"; done; done
fi
i=0
for name in $names; do
  env="${name%%-*}"; set="${name#*-}"
  for arch in $archs; do
    # bc: the Transformer network without return tokens; bc-aaren: the Aaren one
    net="$arch"; model=dt; extra=()
    case "$arch" in
      aaren|transformer) ;;
      bc) net=transformer; model=bc; extra=(--no-returns) ;;
      bc-aaren) net=aaren; model=bc; extra=(--no-returns) ;;
      *) echo "unknown arch $arch (aaren, transformer, bc, bc-aaren)" >&2; exit 2 ;;
    esac
    for seed in $seeds; do
      mine=$(( i % sn == si )); i=$((i + 1))
      [ "$mine" = 1 ] || continue
      # done when the run's last row is there (Aaren writes window-streams, then full-stream)
      last=window-recompute; [ "$net" = aaren ] && last=full-stream
      take_run "$runs" rl_run_done "$env" "$set" "$arch" "$net" "$model" "$last" "$seed" "$steps" "$batch" "$K" \
        "$episodes" "$targets" "$eval_every" "$curve_k" || continue
      data="$data_dir/$env-$set.hdf5"
      # one shard makes a missing data set while the others wait for it
      ( flock 9
        if [ ! -f "$data" ]; then
          echo "== making the $env data sets in $data_dir"
          "$bin" rl make-data --env "$env" --out "$data_dir" --seed 0 --xml-dir "$xml" --quiet
        fi ) 9> "$data_dir/.$env.lock"
      echo "== $env $set $arch seed $seed ($steps updates, K $K, batch $batch)"
      proto=()
      if [ "$protocol" = 1 ]; then
        proto=(--target "$targets" "${extra[@]}")
        [ "$eval_every" != 0 ] && proto+=(--eval-every "$eval_every" --curve-episodes "$curve_episodes")
      fi
      "$bin" rl train --data "$data" --arch "$net" --seed "$seed" --steps "$steps" --K "$K" --batch "$batch" \
        --eval-episodes "$episodes" "${proto[@]}" \
        --xml-dir "$xml" --quiet --results-csv "$runs" | grep -E "^(trained|result):" | sed 's/ train_s=.*//'
      release_run
    done
  done
done
if [ "$summary" = 1 ] && [ "$runs" = results/rl_runs.csv ]; then
  /usr/bin/python3 python/summarize_rl.py "$runs" results/rl.md
fi
if [ "$summary" = 1 ] && [ "$runs" = results/rl_protocol_runs.csv ]; then
  /usr/bin/python3 python/summarize_rl.py "$runs" results/rl-protocol.md
fi
