#!/usr/bin/env bash
# The patch-recipe forecasting grid (issue 20, recipe 2): Aaren and the Transformer as the
# backbone of a channel-independent patch forecaster (`aaren forecast --recipe patch`).
# Data sets x horizons x seeds x architectures x learning rates, one run each, appended to
# results/forecasting_patch_runs.csv; runs already there are skipped, so the grid resumes and
# can be sharded (--data, --horizons, --seeds). Then rewrites results/forecasting.md from both
# recipes' CSVs.
#
#   bash scripts/reproduce_forecasting_patch.sh [--data "ETTh1 ETTm1"] [--horizons "96 192"] [--seeds "1 2 3 4 5"]
#
# Settings, the same for both backbones: lookback 96, features M, patches of 16 every 8,
# d_model 64, 4 heads, 2 layers, d_ff 128, dropout 0.1, batch 32, Adam, the learning rate
# halved every epoch, at most 10 epochs of 100 steps (3,200 windows), early stopping on
# validation MSE (patience 3). Each seed runs every learning rate of the grid; the summary
# keeps, per seed, the rate with the lowest validation MSE (the test split never chooses).
set -euo pipefail
cd "$(dirname "$0")/.."
datasets="ETTh1 ETTh2 ETTm1 ETTm2 weather exchange_rate"
horizons="96 192 336 720"
seeds="1 2 3 4 5"
archs="aaren transformer"
lrs="0.0003 0.001"
while [ $# -gt 0 ]; do
  case "$1" in
    --data) datasets="$2"; shift 2 ;;
    --horizons) horizons="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    --archs) archs="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
shared="${AAREN_SHARED:-../shared}"
runs=results/forecasting_patch_runs.csv
mkdir -p results
# AAREN_BIN: the binary to run (default build/aaren); give a copy when rebuilding meanwhile
bin="${AAREN_BIN:-build/aaren}"
[ -x "$bin" ] || bash scripts/build.sh
. scripts/grid_claim.sh

# has_run DATA H ARCH LR SEED: the runs file already has that run (columns found by name)
has_run() {
  [ -f "$runs" ] && awk -F, -v d="$1" -v h="$2" -v a="$3" -v l="$4" -v s="$5" '
    NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $c["data"] == d && $c["pred_len"] == h && $c["arch"] == a && $c["seed"] == s && $c["lr"] + 0 == l + 0 { found = 1 }
    END { exit !found }' "$runs"
}

for ds in $datasets; do
  file="$shared/data/forecasting/$ds/$ds.csv"
  [ -f "$file" ] || { echo "skipping $ds: $file not found"; continue; }
  for h in $horizons; do
    for seed in $seeds; do   # seeds outside the architectures: a grid cut short leaves whole seeds
      for arch in $archs; do
        for lr in $lrs; do
          take_run "$runs" has_run "$ds.csv" "$h" "$arch" "$lr" "$seed" || continue
          echo "== $ds horizon $h $arch lr $lr seed $seed"
          nice "$bin" --threads "${AAREN_THREADS:-1}" forecast --data "$file" --recipe patch --patch-len 16 --stride 8 \
            --pred-len "$h" --arch "$arch" --seed "$seed" --lr "$lr" --d-model 64 --n-heads 4 --n-layers 2 --d-ff 128 \
            --epochs 10 --steps-per-epoch 100 --patience 3 --quiet --results-csv "$runs" | grep -E "^test MSE"
          release_run
        done
      done
    done
  done
done
/usr/bin/python3 python/summarize_forecasting.py results/forecasting_runs.csv results/forecasting.md "$runs"
