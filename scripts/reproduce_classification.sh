#!/usr/bin/env bash
# The classification grid: UEA data sets x architectures x seeds, one `aaren classify` run
# each, appended to results/classification_runs.csv; runs already there are skipped, so the
# grid resumes and can be sharded (one data set per invocation). Then writes
# results/classification.md from every run in the CSV.
#
#   bash scripts/reproduce_classification.sh [--data "JapaneseVowels Handwriting"] [--seeds 5]
#
# Settings (the same for both architectures, as in the paper): d_model 64, 4 heads,
# 2 layers, d_ff 128, dropout 0.1, batch 16, Adam lr 1e-3 (constant), gradient norm clipped
# at 4, at most 100 epochs, early stopping on the accuracy of a stratified 20% validation
# split of TRAIN (patience 15); TEST is used once, at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
datasets="JapaneseVowels Handwriting UWaveGestureLibrary ArticularyWordRecognition AtrialFibrillation FingerMovements StandWalkJump"
seeds=5
while [ $# -gt 0 ]; do
  case "$1" in
    --data) datasets="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
shared="${AAREN_SHARED:-../shared}"
runs=results/classification_runs.csv
mkdir -p results
# AAREN_BIN: the binary to run (default build/aaren); give a copy when rebuilding meanwhile
bin="${AAREN_BIN:-build/aaren}"
[ -x "$bin" ] || bash scripts/build.sh
for ds in $datasets; do
  dir="$shared/data/classification/$ds"
  [ -d "$dir" ] || dir="$shared/data/classification/_substitutes/$ds"
  [ -f "$dir/${ds}_TRAIN.ts" ] || { echo "skipping $ds: $dir/${ds}_TRAIN.ts not found"; continue; }
  for arch in aaren transformer; do
    for seed in $(seq 1 "$seeds"); do
      if [ -f "$runs" ] && grep -q "^$ds,$arch,64,4,2,128,$seed," "$runs"; then continue; fi
      echo "== $ds $arch seed $seed"
      "$bin" classify --data "$dir" --arch "$arch" --seed "$seed" \
        --d-model 64 --n-heads 4 --n-layers 2 --d-ff 128 --quiet --results-csv "$runs" | grep -E "^(test|split)"
    done
  done
done
/usr/bin/python3 python/summarize_classification.py "$runs" results/classification.md
