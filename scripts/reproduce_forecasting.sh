#!/usr/bin/env bash
# The forecasting grid: data sets x horizons x architectures x seeds, one `aaren forecast`
# run each, appended to results/forecasting_runs.csv; runs already there are skipped, so the
# grid resumes and can be sharded (one data set per invocation). Then writes
# results/forecasting.md from every run in the CSV.
#
#   bash scripts/reproduce_forecasting.sh [--data "ETTh1 ETTm1"] [--horizons "96 192"] [--seeds 3]
#
# Settings (the same for both architectures, as in the paper): lookback 96, features M,
# d_model 64, 4 heads, 2 layers, d_ff 128, dropout 0.1, batch 32, lr 1e-3 halved every
# epoch, at most 10 epochs of 300 steps, early stopping on validation MSE (patience 3).
set -euo pipefail
cd "$(dirname "$0")/.."
datasets="ETTh1 ETTh2 ETTm1 ETTm2 weather exchange_rate"
horizons="96 192 336 720"
seeds=3
while [ $# -gt 0 ]; do
  case "$1" in
    --data) datasets="$2"; shift 2 ;;
    --horizons) horizons="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
shared="${AAREN_SHARED:-../shared}"
runs=results/forecasting_runs.csv
mkdir -p results
# AAREN_BIN: the binary to run (default build/aaren); give a copy when rebuilding meanwhile
bin="${AAREN_BIN:-build/aaren}"
[ -x "$bin" ] || bash scripts/build.sh
for ds in $datasets; do
  file="$shared/data/forecasting/$ds/$ds.csv"
  [ -f "$file" ] || { echo "skipping $ds: $file not found"; continue; }
  for h in $horizons; do
    for arch in aaren transformer; do
      for seed in $(seq 1 "$seeds"); do
        if [ -f "$runs" ] && grep -q "^$ds.csv,M,96,$h,$arch,64,4,2,128,$seed," "$runs"; then continue; fi
        echo "== $ds horizon $h $arch seed $seed"
        "$bin" forecast --data "$file" --pred-len "$h" --arch "$arch" --seed "$seed" \
          --d-model 64 --n-heads 4 --n-layers 2 --d-ff 128 --quiet --results-csv "$runs"
      done
    done
  done
done
/usr/bin/python3 python/summarize_forecasting.py "$runs" results/forecasting.md
