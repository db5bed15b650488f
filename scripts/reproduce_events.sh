#!/usr/bin/env bash
# The event-forecasting grid: data sets x architectures x seeds, one `aaren events` run each,
# appended to results/events_runs.csv; runs already there are skipped, so the grid resumes and
# can be sharded (one data set per invocation). Then writes results/events.md from every run.
#
#   bash scripts/reproduce_events.sh [--data "sin MIMIC Wiki"] [--seeds 5]
#
# Settings (the same for both architectures): d_model 64, 4 heads, 2 layers, d_ff 128,
# 8 log-normal components, dropout 0.1, batch 16 sequences, Adam lr 1e-3, gradient norm
# clipped at 1, early stopping on validation NLL (patience 5) within at most 30 epochs
# (Wiki: 8 epochs, patience 3: about 20 s per epoch on one core). Sin: 1000 sequences of the
# process with intensity 1 + 0.9 sin(2 pi t / 10) on [0, 100), generator seed 1.
set -euo pipefail
cd "$(dirname "$0")/.."
datasets="sin MIMIC Wiki"
seeds=5
while [ $# -gt 0 ]; do
  case "$1" in
    --data) datasets="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
shared="${AAREN_SHARED:-../shared}"
runs=results/events_runs.csv
mkdir -p results
# AAREN_BIN: the binary to run (default build/aaren); give a copy when rebuilding meanwhile
bin="${AAREN_BIN:-build/aaren}"
[ -x "$bin" ] || bash scripts/build.sh
for ds in $datasets; do
  budget=(--epochs 30 --patience 5)
  case "$ds" in
    sin) src=(--sin); name=sin ;;
    MIMIC) src=(--data "$shared/data/events/MIMIC/mimic_events.csv"); name=mimic_events.csv ;;
    Wiki) src=(--data "$shared/data/events/Wiki/wikipedia_events.csv"); name=wikipedia_events.csv; budget=(--epochs 8 --patience 3) ;;
    *) echo "unknown data set $ds (sin, MIMIC, Wiki)" >&2; exit 2 ;;
  esac
  if [ "$ds" != sin ] && [ ! -f "${src[1]}" ]; then echo "skipping $ds: ${src[1]} not found"; continue; fi
  for arch in aaren transformer; do
    for seed in $(seq 1 "$seeds"); do
      if [ -f "$runs" ] && grep -q "^$name,$arch,64,4,2,128,8,$seed," "$runs"; then continue; fi
      echo "== $ds $arch seed $seed"
      "$bin" events "${src[@]}" --arch "$arch" --seed "$seed" --d-model 64 --n-heads 4 --n-layers 2 --d-ff 128 \
        --components 8 "${budget[@]}" --quiet --results-csv "$runs" | grep -E "^($arch|Poisson|per) "
    done
  done
done
/usr/bin/python3 python/summarize_events.py "$runs" results/events.md
