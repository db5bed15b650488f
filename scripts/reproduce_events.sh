#!/usr/bin/env bash
# The event-forecasting grid (issue 21's protocol): data sets x architectures x learning rates x
# seeds, one `aaren events` run each, appended to results/events_runs_v2.csv; runs already there
# are skipped, so the grid resumes and can be sharded (one data set per invocation). Then writes
# results/events.md from every run of that file (the learning rate chosen per seed on VAL).
# --copy-mark: the same grid with the copy logit on the current event's mark (aaren events
# --copy-mark) on every data set, in results/events_copy_runs.csv and results/events-copy.md;
# --copy-lags L: with copy logits on the marks of the last L events (aaren events --copy-lags L),
# in results/events_lags<L>_runs.csv and results/events-lags<L>.md.
#
#   bash scripts/reproduce_events.sh [--data "MIMIC sin Wiki"] [--seeds 5] [--lrs "1e-4 3e-4 1e-3 3e-3"]
#                                    [--archs "aaren transformer"] [--copy-mark | --copy-lags L]
#
# Settings (the same for both architectures): d_model 64, 4 heads, 2 layers, d_ff 128,
# 8 log-normal components, dropout 0.1, batch 16 sequences, Adam at a constant learning rate
# from the grid, gradient norm clipped at 1, early stopping on validation NLL: MIMIC and Sin at
# most 100 epochs with patience 10; Wiki at most 30 with patience 3 and the mark head tied to
# the mark embedding (--tie-marks; 8,227 marks). Sin: 1000 sequences of the process with
# intensity 1 + 0.9 sin(2 pi t / 10) on [0, 100), generator seed 1. Every run on one thread
# (--threads 1) at low priority (nice), so that run times are comparable.
set -euo pipefail
cd "$(dirname "$0")/.."
datasets="MIMIC sin Wiki"
seeds=5
lrs="1e-4 3e-4 1e-3 3e-3"
archs="aaren transformer"
copy=()
while [ $# -gt 0 ]; do
  case "$1" in
    --data) datasets="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    --lrs) lrs="$2"; shift 2 ;;
    --archs) archs="$2"; shift 2 ;;
    --copy-mark) copy=(--copy-mark); shift ;;
    --copy-lags) [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || { echo "--copy-lags: a count of lags, 1 to 64" >&2; exit 2; }
                 copy=(--copy-lags "$2"); shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
shared="${AAREN_SHARED:-../shared}"
runs=results/events_runs_v2.csv
md=results/events.md
if [ ${#copy[@]} -eq 1 ]; then runs=results/events_copy_runs.csv; md=results/events-copy.md; fi
if [ ${#copy[@]} -eq 2 ]; then runs=results/events_lags${copy[1]}_runs.csv; md=results/events-lags${copy[1]}.md; fi
mkdir -p results
# AAREN_BIN: the binary to run (default build/aaren); give a copy when rebuilding meanwhile
bin="${AAREN_BIN:-build/aaren}"
[ -x "$bin" ] || bash scripts/build.sh
. scripts/grid_claim.sh

# has_run NAME ARCH LR SEED: the runs file already has that run (columns found by name)
has_run() {
  [ -f "$runs" ] && awk -F, -v d="$1" -v a="$2" -v l="$3" -v s="$4" '
    NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $c["data"] == d && $c["arch"] == a && $c["seed"] == s && $c["lr"] + 0 == l + 0 { found = 1 }
    END { exit !found }' "$runs"
}

for ds in $datasets; do
  budget=(--epochs 100 --patience 10)
  head=()
  case "$ds" in
    sin) src=(--sin); name=sin ;;
    MIMIC) src=(--data "$shared/data/events/MIMIC/mimic_events.csv"); name=mimic_events.csv ;;
    Wiki) src=(--data "$shared/data/events/Wiki/wikipedia_events.csv"); name=wikipedia_events.csv
          budget=(--epochs 30 --patience 3); head=(--tie-marks) ;;
    *) echo "unknown data set $ds (MIMIC, sin, Wiki)" >&2; exit 2 ;;
  esac
  if [ "$ds" = sin ] && [ ${#copy[@]} -gt 0 ]; then echo "skipping sin: unmarked, no copy logit"; continue; fi
  if [ "$ds" != sin ] && [ ! -f "${src[1]}" ]; then echo "skipping $ds: ${src[1]} not found"; continue; fi
  for seed in $(seq 1 "$seeds"); do   # seeds outermost: a grid cut short leaves whole seeds
    for arch in $archs; do
      for lr in $lrs; do
        take_run "$runs" has_run "$name" "$arch" "$lr" "$seed" || continue
        echo "== $ds $arch lr $lr seed $seed"
        nice "$bin" --threads 1 events "${src[@]}" --arch "$arch" --seed "$seed" --lr "$lr" --d-model 64 --n-heads 4 \
          --n-layers 2 --d-ff 128 --components 8 "${budget[@]}" "${head[@]}" "${copy[@]}" --quiet --results-csv "$runs" |
          grep -E "^($arch|Poisson|Hawkes|per) "
        release_run
      done
    done
  done
done
if [ ${#copy[@]} -gt 0 ]; then
  /usr/bin/python3 python/summarize_events.py "$runs" "$md"
  exit 0
fi
# runs outside the grid, listed for data sets the grid has not reached: the earlier protocol's
# runs and a trial of the tied mark head on Wiki (one seed, 4 epochs: its options column); and
# the copy-logit trials (--copy-mark, --copy-lags: listed on every data set)
extra=()
for f in results/events_wiki_trial.csv results/events_copy_trial.csv results/events_lags_trial.csv results/events_runs.csv; do
  [ -f "$f" ] && extra+=("$f")
done
/usr/bin/python3 python/summarize_events.py "$runs" results/events.md "${extra[@]}"
