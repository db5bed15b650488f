#!/usr/bin/env bash
# The forecasting grid of the paper's recipe (a token per step, a head on the last step), one
# `aaren forecast` run each, appended to a runs CSV; runs already there are skipped, so the grid
# resumes and can be sharded (--data, --horizons, --seeds). Then writes results/forecasting.md
# from every run of both protocols' CSVs and the patch recipe's CSV.
#
#   bash scripts/reproduce_forecasting.sh [--protocol v1|v2] [--data "ETTh1 ETTm1"] [--horizons "96 192"] [--seeds N | "1 2 3"]
#                                         [--lrs "0.00003 0.0001 0.0003 0.001"]   (v2 only)
#
# Two protocols, the same settings for both architectures in each (as in the paper):
#
# v1 (the default; results/forecasting_runs.csv): lookback 96, features M, d_model 64, 4 heads,
# 2 layers, d_ff 128, dropout 0.1, batch 32, lr 1e-3 halved every epoch, at most 10 epochs of
# 300 steps, early stopping on validation MSE (patience 3). --seeds N runs seeds 1..N [3].
#
# v2 (issue 20, "recipe 1 trained properly"; results/forecasting_v2_runs.csv): lookback 96,
# features M, calendar features (--calendar), d_model 128, 8 heads, 2 layers, d_ff 256, dropout
# 0.1, batch 32, Adam with the learning rate halved every epoch, at most 10 epochs of a full pass
# over the training windows each (--steps-per-epoch 0), early stopping on validation MSE
# (patience 3). Every seed runs every learning rate of the grid 1e-4, 3e-4, 1e-3; the summary
# keeps, per seed, the rate with the lowest validation MSE (the test split never chooses).
# --lrs widens a data set's grid (where its chosen rate sits at the grid's edge): the summary
# then wants the added rates from every seed of that data set, at every horizon.
# --seeds takes a list ["1 2 3 4 5"]; seeds are the outer loop, so a grid cut short leaves
# whole seeds. One thread per run, at low priority.
#
# Environment: AAREN_BIN the binary to run (default build/aaren; give a copy when rebuilding
# meanwhile), AAREN_SHARED the shared folder (../shared), AAREN_FORECAST_RUNS the runs CSV of the
# protocol run (default above), AAREN_FORECAST_MD the summary written (results/forecasting.md).
set -euo pipefail
cd "$(dirname "$0")/.."
protocol=v1
datasets="ETTh1 ETTh2 ETTm1 ETTm2 weather exchange_rate"
horizons="96 192 336 720"
seeds=""
lrs="0.0001 0.0003 0.001"
lrs_given=0
while [ $# -gt 0 ]; do
  case "$1" in
    --protocol) protocol="$2"; shift 2 ;;
    --data) datasets="$2"; shift 2 ;;
    --horizons) horizons="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    --lrs) lrs="$2"; lrs_given=1; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
shared="${AAREN_SHARED:-../shared}"
v1_runs=results/forecasting_runs.csv
v2_runs=results/forecasting_v2_runs.csv
patch_runs=results/forecasting_patch_runs.csv
case "$protocol" in
  v1) v1_runs="${AAREN_FORECAST_RUNS:-$v1_runs}"; runs="$v1_runs"; seeds="${seeds:-3}"
      case "$seeds" in *[!0-9]*|"") echo "--seeds: protocol v1 takes a count of seeds (got '$seeds')" >&2; exit 2 ;; esac ;;
  v2) v2_runs="${AAREN_FORECAST_RUNS:-$v2_runs}"; runs="$v2_runs"; seeds="${seeds:-1 2 3 4 5}"
      case "$seeds" in *[!0-9\ ]*) echo "--seeds: protocol v2 takes a list of seeds such as \"1 2 3\" (got '$seeds')" >&2; exit 2 ;; esac ;;
  *) echo "--protocol: v1 or v2 (got '$protocol')" >&2; exit 2 ;;
esac
if [ "$protocol" = v1 ] && [ "$lrs_given" = 1 ]; then echo "--lrs: protocol v2 only (v1 halves 1e-3 every epoch)" >&2; exit 2; fi
for lr in $lrs; do
  [[ "$lr" =~ ^[0-9]*\.?[0-9]+([eE]-?[0-9]+)?$ ]] || { echo "--lrs: '$lr' is not a learning rate" >&2; exit 2; }
done
md="${AAREN_FORECAST_MD:-results/forecasting.md}"
mkdir -p "$(dirname "$runs")" "$(dirname "$md")"
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
# has_run_v1 DATA H ARCH SEED: protocol v1's runs file already has that run
has_run_v1() { [ -f "$runs" ] && grep -q "^$1,M,96,$2,$3,64,4,2,128,$4," "$runs"; }

for ds in $datasets; do
  file="$shared/data/forecasting/$ds/$ds.csv"
  [ -f "$file" ] || { echo "skipping $ds: $file not found"; continue; }
  for h in $horizons; do
    if [ "$protocol" = v1 ]; then
      for arch in aaren transformer; do
        for seed in $(seq 1 "$seeds"); do
          take_run "$runs" has_run_v1 "$ds.csv" "$h" "$arch" "$seed" || continue
          echo "== $ds horizon $h $arch seed $seed"
          "$bin" forecast --data "$file" --pred-len "$h" --arch "$arch" --seed "$seed" \
            --d-model 64 --n-heads 4 --n-layers 2 --d-ff 128 --quiet --results-csv "$runs"
          release_run
        done
      done
      continue
    fi
    for seed in $seeds; do   # seeds outside the architectures: a grid cut short leaves whole seeds
      for arch in aaren transformer; do
        for lr in $lrs; do
          take_run "$runs" has_run "$ds.csv" "$h" "$arch" "$lr" "$seed" || continue
          echo "== $ds horizon $h $arch lr $lr seed $seed"
          nice "$bin" --threads 1 forecast --data "$file" --pred-len "$h" --arch "$arch" --seed "$seed" --lr "$lr" \
            --calendar --d-model 128 --n-heads 8 --n-layers 2 --d-ff 256 --dropout 0.1 --batch 32 \
            --epochs 10 --steps-per-epoch 0 --patience 3 --quiet --results-csv "$runs" | grep -E "^test MSE"
          release_run
        done
      done
    done
  done
done
extra=()
[ -f "$patch_runs" ] && extra+=("$patch_runs")
/usr/bin/python3 python/summarize_forecasting.py "$v1_runs" "$md" "${extra[@]}" --v2 "$v2_runs"
