#!/usr/bin/env bash
# The classification grid: UEA data sets x architectures x seeds, one `aaren classify` run
# each, appended to results/classification_runs.csv; runs already there are skipped, so the
# grid resumes and can be sharded (one data set per invocation). Then writes
# results/classification.md from every run in the CSV.
#
#   bash scripts/reproduce_classification.sh [--data "JapaneseVowels Handwriting"] [--seeds 5]
#        [--model small|large] [--protocol val|test]
#
# Settings (the same for both architectures, as in the paper): model small: d_model 64,
# 4 heads, 2 layers, d_ff 128; model large (the Time-Series-Library's sizes): d_model 128,
# 8 heads, 3 layers, d_ff 256; dropout 0.1, batch 16, Adam lr 1e-3 (constant), gradient norm
# clipped at 4, at most 100 epochs, patience 15. Protocol val (ours): early stopping on the
# accuracy of a stratified 20% validation split of TRAIN, TEST used once at the end; protocol
# test (the library's, for comparison with published figures only): all of TRAIN trains and
# the epoch with the best TEST accuracy is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
datasets="JapaneseVowels Handwriting UWaveGestureLibrary ArticularyWordRecognition AtrialFibrillation FingerMovements StandWalkJump"
seeds=5
model=small
protocol=val
while [ $# -gt 0 ]; do
  case "$1" in
    --data) datasets="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    --model) model="$2"; shift 2 ;;
    --protocol) protocol="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
case "$model" in
  small) size=(--d-model 64 --n-heads 4 --n-layers 2 --d-ff 128); dm=64 nl=2 ff=128 ;;
  large) size=(--d-model 128 --n-heads 8 --n-layers 3 --d-ff 256); dm=128 nl=3 ff=256 ;;
  *) echo "--model small or large" >&2; exit 2 ;;
esac
case "$protocol" in val|test) ;; *) echo "--protocol val or test" >&2; exit 2 ;; esac
shared="${AAREN_SHARED:-../shared}"
runs=results/classification_runs.csv
mkdir -p results
# AAREN_BIN: the binary to run (default build/aaren); give a copy when rebuilding meanwhile
bin="${AAREN_BIN:-build/aaren}"
[ -x "$bin" ] || bash scripts/build.sh
. scripts/grid_claim.sh
# has_run DATA ARCH D_MODEL N_LAYERS D_FF PROTOCOL SEED: the runs file has that run (columns by name)
has_run() {
  [ -f "$runs" ] && awk -F, -v d="$1" -v a="$2" -v m="$3" -v l="$4" -v f="$5" -v p="$6" -v s="$7" '
    NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $c["data"] == d && $c["arch"] == a && $c["d_model"] == m && $c["n_layers"] == l && $c["d_ff"] == f &&
      $c["select_on"] == p && $c["seed"] == s { found = 1 }
    END { exit !found }' "$runs"
}

for ds in $datasets; do
  dir="$shared/data/classification/$ds"
  [ -d "$dir" ] || dir="$shared/data/classification/_substitutes/$ds"
  [ -f "$dir/${ds}_TRAIN.ts" ] || { echo "skipping $ds: $dir/${ds}_TRAIN.ts not found"; continue; }
  for arch in aaren transformer; do
    for seed in $(seq 1 "$seeds"); do
      take_run "$runs" has_run "$ds" "$arch" "$dm" "$nl" "$ff" "$protocol" "$seed" || continue
      echo "== $ds $arch $model protocol $protocol seed $seed"
      nice "$bin" --threads "${AAREN_THREADS:-1}" classify --data "$dir" --arch "$arch" --seed "$seed" "${size[@]}" \
        --select-on "$protocol" --quiet --results-csv "$runs" | grep -E "^(test|split|all)"
      release_run
    done
  done
done
/usr/bin/python3 python/summarize_classification.py "$runs" results/classification.md
