#!/usr/bin/env bash
# Context length study: Decision Aaren trained on longer windows than the Decision
# Transformer's K = 20, by default at the same number of tokens per update (batch = 1280 / K
# windows, rounded: K 50 -> 26, K 100 -> 13), evaluated through the K-stream window and the
# whole-episode stream. The question: does the whole-episode agent, which conditions on up
# to 1000 steps, catch up with the window when it is trained on longer contexts? Every run
# is a row of results/rl_context_runs.csv (made by scripts/reproduce_rl.sh with --K, --batch
# and --runs, so it resumes and shards the same way); the K = 20 rows are the main grid's
# (results/rl_runs.csv, same seeds, data and updates). --shard I/N shards each K's runs. Then
# writes results/rl-context.md.
#
#   bash scripts/reproduce_rl_context.sh [--Ks "100 50"]
#        [--data "hopper-medium-replay walker2d-medium walker2d-medium-expert"]
#        [--seeds "1 2 3 4 5"] [--steps 1000] [--batch B] [--shard I/N] [--no-summary]
#
# --batch B: B windows per update whatever K (as many windows as the main grid's 64, at K / 20
# times the steps per update), to tell a longer context from a smaller batch.
set -euo pipefail
cd "$(dirname "$0")/.."
Ks="100 50"
data="hopper-medium-replay walker2d-medium walker2d-medium-expert"
seeds="1 2 3 4 5"
steps=1000
shard="0/1"
summary=1
fixed_batch=
while [ $# -gt 0 ]; do
  case "$1" in
    --Ks) Ks="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --shard) shard="$2"; shift 2 ;;
    --batch) fixed_batch="$2"; shift 2 ;;
    --no-summary) summary=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
runs=results/rl_context_runs.csv
for K in $Ks; do
  bash scripts/reproduce_rl.sh --data "$data" --archs aaren --seeds "$seeds" --steps "$steps" \
    --K "$K" --batch "${fixed_batch:-$(( (1280 + K / 2) / K ))}" --runs "$runs" --shard "$shard" --no-summary
done
if [ "$summary" = 1 ]; then
  /usr/bin/python3 python/summarize_rl_context.py results/rl_runs.csv "$runs" results/rl-context.md
fi
