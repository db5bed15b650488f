#!/bin/bash
# scripts/grid_claim.sh: of two grid invocations that reach the same run at once, exactly one
# runs it; a run already in the runs file is skipped; a holder killed with SIGKILL leaves no
# stale lock; release_run lets the next holder take it. Exits 1 on the first failure.
# Usage: bash tests/check_grid_claim.sh [SOURCE_ROOT]
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
export AAREN_GRID_LOCKS="$work/locks"
runs="$work/runs.csv"
echo "data,seed" > "$runs"
fail() { echo "FAIL $*"; exit 1; }
has_run() { grep -q "^$1,$2\$" "$runs"; }
. "$root/scripts/grid_claim.sh"

# two invocations, each trying seeds 1..4 in the same order, each run taking 0.3 s
grid() {
  for seed in 1 2 3 4; do
    take_run "$runs" has_run ETTh1 "$seed" || continue
    sleep 0.3
    echo "ETTh1,$seed" >> "$runs"
    echo "$1 ran $seed" >> "$work/log"
    release_run
  done
}
grid A & grid B & wait
rows=$(grep -c '^ETTh1,' "$runs")
[ "$rows" = 4 ] || fail "4 runs expected once each, the runs file has $rows rows: $(cat "$runs")"
[ "$(cut -d, -f2 "$runs" | sort | uniq -d)" = "" ] || fail "a seed ran twice: $(cat "$work/log")"
[ "$(cut -d' ' -f1 "$work/log" | sort -u | wc -l)" = 2 ] || fail "both invocations should have run some: $(cat "$work/log")"
echo "ok   two overlapping invocations ran each of 4 runs once ($(tr '\n' ';' < "$work/log"))"

take_run "$runs" has_run ETTh1 2 && fail "a run in the runs file was taken again"
echo "ok   a run already in the runs file is skipped"

# a holder killed with SIGKILL: its lock goes with it (exec: the holder is the one process
# that has the lock open, as a grid whose run has ended)
( take_run "$runs" has_run ETTh2 1 && { echo held > "$work/held"; exec sleep 30; } ) &
holder=$!
for _ in $(seq 1 50); do [ -f "$work/held" ] && break; sleep 0.1; done
[ -f "$work/held" ] || fail "the holder did not take its run"
out=$(take_run "$runs" has_run ETTh2 1) && fail "a run held by another invocation was taken"
case "$out" in *"another invocation is running it"*) ;; *) fail "the skip is not explained: '$out'" ;; esac
echo "ok   a run held elsewhere is skipped with: $out"
kill -9 "$holder"; wait "$holder" 2>/dev/null
take_run "$runs" has_run ETTh2 1 || fail "the lock of a killed holder is stale"
echo "ok   the run of a killed holder can be taken"
release_run
take_run "$runs" has_run ETTh2 1 || fail "a released run cannot be taken again"
release_run
echo "check_grid_claim: passed"
