#!/usr/bin/env bash
# The offline-RL grid: environments x data sets x architectures x seeds. Each run trains a
# decision model with `aaren rl train` and evaluates it in the environment; every evaluation
# is a row of results/rl_runs.csv. Runs already in the CSV are skipped, so the grid resumes;
# --shard I/N runs every N-th combination from the I-th (0-based), so shards can run side by
# side (give each its own OMP_NUM_THREADS). Missing data sets are made first with
# `aaren rl make-data --seed 0` into --data-dir. Then writes results/rl.md from every run.
#
#   bash scripts/reproduce_rl.sh [--envs "hopper halfcheetah walker2d ant"]
#        [--sets "medium medium-replay medium-expert"] [--archs "aaren transformer"]
#        [--seeds "1 2 3 4 5"] [--steps 1000] [--episodes 10] [--data-dir rl_data]
#        [--data "hopper-medium-replay walker2d-medium"] [--K 20] [--batch 64]
#        [--runs results/rl_runs.csv] [--shard I/N] [--no-summary]
#
# --data names the data sets (environment-set) instead of every --envs x --sets pair.
# --K and --batch change the context and the batch (scripts/reproduce_rl_context.sh uses them,
# with its own --runs CSV); a run is identified by environment, data set, architecture, seed,
# steps, batch and K. The summary (results/rl.md) is written only from the default CSV.
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
runs=results/rl_runs.csv
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
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
si="${shard%/*}"; sn="${shard#*/}"
mkdir -p "$(dirname "$runs")" "$data_dir"
# AAREN_BIN: the binary to run (default build/aaren); give a copy when rebuilding meanwhile
bin="${AAREN_BIN:-build/aaren}"
[ -x "$bin" ] || bash scripts/build.sh
xml="${AAREN_MUJOCO_XML:-${AAREN_SHARED:-../shared}/data/rl/mujoco_xml}"
if [ -z "$names" ]; then
  for env in $envs; do for set in $sets; do names="$names $env-$set"; done; done
fi
i=0
for name in $names; do
  env="${name%%-*}"; set="${name#*-}"
  for arch in $archs; do
    for seed in $seeds; do
      mine=$(( i % sn == si )); i=$((i + 1))
      [ "$mine" = 1 ] || continue
      # done when the run's last row is there (Aaren writes window-streams, then full-stream)
      last=window-recompute; [ "$arch" = aaren ] && last=full-stream
      if [ -f "$runs" ] && grep -q "^$env,$set,$arch,$last,$seed,$steps,$batch,$K," "$runs"; then continue; fi
      data="$data_dir/$env-$set.hdf5"
      # one shard makes a missing data set while the others wait for it
      ( flock 9
        if [ ! -f "$data" ]; then
          echo "== making the $env data sets in $data_dir"
          "$bin" rl make-data --env "$env" --out "$data_dir" --seed 0 --xml-dir "$xml" --quiet
        fi ) 9> "$data_dir/.$env.lock"
      echo "== $env $set $arch seed $seed ($steps updates, K $K, batch $batch)"
      "$bin" rl train --data "$data" --arch "$arch" --seed "$seed" --steps "$steps" --K "$K" --batch "$batch" \
        --eval-episodes "$episodes" \
        --xml-dir "$xml" --quiet --results-csv "$runs" | grep -E "^(trained|result):" | sed 's/ train_s=.*//'
    done
  done
done
if [ "$summary" = 1 ] && [ "$runs" = results/rl_runs.csv ]; then
  /usr/bin/python3 python/summarize_rl.py "$runs" results/rl.md
fi
