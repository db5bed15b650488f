# Sourced by the reproduce_*.sh grids: two invocations started on overlapping shards (the same
# data set and seed, say) never run the same run at the same time. A run is taken under an
# exclusive lock (flock) named by the runs file and the run's fields; the lock goes with the
# process that holds it, so a killed grid leaves nothing stale behind.
#
#   take_run RUNS HAS_RUN FIELD...   0: run it (it is not in RUNS and this shell now holds it);
#                                    1: skip it (already in RUNS, or another invocation runs it)
#   release_run                      after the run's row is in RUNS
#
# HAS_RUN is the grid's own check (a function taking the FIELDs). Locks live in
# $AAREN_GRID_LOCKS (default $TMPDIR/aaren-grid-locks).
grid_claim_fd=""

take_run() {
  local runs="$1" has="$2"; shift 2
  "$has" "$@" && return 1
  local dir="${AAREN_GRID_LOCKS:-${TMPDIR:-/tmp}/aaren-grid-locks}" key
  key=$(printf '%s\n' "$(realpath -m "$runs")" "$@" | md5sum | cut -c1-32)
  mkdir -p "$dir"
  exec {grid_claim_fd}>"$dir/$key"
  if ! flock -n "$grid_claim_fd"; then
    release_run
    echo "skipping $*: another invocation is running it"
    return 1
  fi
  if "$has" "$@"; then release_run; return 1; fi   # another invocation finished it after the first check
  return 0
}

release_run() {
  if [ -n "$grid_claim_fd" ]; then exec {grid_claim_fd}>&-; fi
  grid_claim_fd=""
}
