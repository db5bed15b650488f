#!/usr/bin/env bash
# Coverage-guided fuzzing of the file readers (fuzz/README.md).
#
#   scripts/fuzz.sh TARGET SECONDS [libFuzzer options...]
#   scripts/fuzz.sh all SECONDS [libFuzzer options...]      # every target in turn
#
# TARGET is a harness name without its fuzz_ prefix (npy, safetensors, checkpoint, ...).
# Builds build-fuzz (clang, libFuzzer, ASan + UBSan) when needed, then runs the harness for
# SECONDS on a copy of fuzz/corpus/TARGET in build-fuzz/runs/TARGET/ (emptied first; the
# committed corpus never grows), with a per-input time limit. Prints the executions, the
# rate, coverage and corpus size; exits non-zero on a crash, leak, time-out or memory blow-up,
# naming the reproducer (replay it with: build-fuzz/fuzz_TARGET REPRODUCER).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: scripts/fuzz.sh TARGET|all SECONDS [libFuzzer options...]" >&2; exit 2; }
[ $# -ge 2 ] || usage
target=$1 seconds=$2
shift 2
[[ $seconds =~ ^[0-9]+$ ]] || usage

targets=()
for f in fuzz/fuzz_*.c; do
  n=${f#fuzz/fuzz_}
  targets+=("${n%.c}")
done
if [ "$target" != all ]; then
  found=0
  for t in "${targets[@]}"; do [ "$t" = "$target" ] && found=1; done
  [ $found = 1 ] || { echo "fuzz.sh: no harness fuzz/fuzz_$target.c (targets: ${targets[*]})" >&2; exit 2; }
fi

# ---- build -------------------------------------------------------------------------------
cc=${FUZZ_CC:-clang}
command -v "$cc" >/dev/null || { echo "fuzz.sh: $cc not found (Debian: apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }
# FUZZ_SANITIZERS: the -fsanitize= list (default address,undefined, in build-fuzz); another
# list builds in its own folder, e.g. FUZZ_SANITIZERS=undefined in build-fuzz-undefined.
san=${FUZZ_SANITIZERS:-address,undefined}
[[ $san =~ ^[a-z,]+$ ]] || { echo "fuzz.sh: bad FUZZ_SANITIZERS '$san'" >&2; exit 2; }
bdir=build-fuzz
[ "$san" = address,undefined ] || bdir=build-fuzz-${san//,/-}
if ! grep -q '^AAREN_FUZZ:BOOL=ON' $bdir/CMakeCache.txt 2>/dev/null; then
  CC=$cc cmake -S . -B $bdir -DAAREN_FUZZ=ON -DAAREN_FUZZ_SANITIZERS="$san" -DAAREN_SANITIZE=OFF -DBUILD_TESTING=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAAREN_USE_OPENMP=OFF -DAAREN_USE_BLAS=OFF -DAAREN_USE_MUJOCO=OFF >/dev/null
fi
mkdir -p $bdir
if ! cmake --build $bdir -j "${FUZZ_JOBS:-2}" --target aaren_fuzzers >$bdir/build.log 2>&1; then
  tail -n 30 $bdir/build.log >&2
  echo "fuzz.sh: building the harnesses failed ($bdir/build.log)" >&2
  exit 2
fi

# ---- one run -----------------------------------------------------------------------------
# Largest input per target (bytes): a little above the largest seed.
max_len() {
  case $1 in
    checkpoint) echo 24576 ;;
    d4rl) echo 16384 ;;
    safetensors) echo 8192 ;;
    stream_line | strtod) echo 256 ;;
    *) echo 4096 ;;
  esac
}

# Value of a "stat::NAME: VALUE" line of libFuzzer's final statistics.
stat() { sed -n "s/^stat::$1: *//p" "$2" | tail -n 1; }

run_one() {
  local t=$1
  shift
  local bin=$bdir/fuzz_$t dir=$bdir/runs/$t
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/tmp"
  [ -d "fuzz/corpus/$t" ] && cp fuzz/corpus/"$t"/* "$dir/corpus/" 2>/dev/null || true
  local rc=0 asan=detect_leaks=1 ubsan=print_stacktrace=1:halt_on_error=1 own=()
  if [ "$t" = d4rl ]; then
    # libhdf5 runs in the reader's child process, which is there to contain its faults: the
    # sanitizers report none of libhdf5's own memory errors (it is not instrumented; only its
    # calls into intercepted functions such as memcpy would be seen) and leave fatal signals
    # to kill the child, which the reader then reports as an error. Our code, parent and
    # child, stays fully checked.
    asan="$asan:suppressions=$PWD/fuzz/hdf5.supp:handle_segv=0:handle_sigbus=0:handle_abort=0:handle_sigfpe=0:handle_sigill=0"
    ubsan="$ubsan:handle_segv=0:handle_sigbus=0:handle_abort=0:handle_sigfpe=0:handle_sigill=0"
    own=(-handle_segv=0 -handle_bus=0 -handle_abrt=0 -handle_fpe=0 -handle_ill=0)
  fi
  AAREN_FUZZ_TMP="$PWD/$dir/tmp" \
  ASAN_OPTIONS=${ASAN_OPTIONS:-$asan} UBSAN_OPTIONS=${UBSAN_OPTIONS:-$ubsan} \
    "$bin" -max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb="${FUZZ_RSS_MB:-2048}" \
      -max_len="$(max_len "$t")" -print_final_stats=1 -artifact_prefix="$dir/" "${own[@]}" "$@" "$dir/corpus" \
      >"$dir/log" 2>&1 || rc=$?
  local runs rate secs cov ft corp
  runs=$(stat number_of_executed_units "$dir/log")
  rate=$(stat average_exec_per_sec "$dir/log")
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$dir/log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$dir/log" | tail -n 1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$dir/log" | tail -n 1 | cut -d' ' -f2)
  corp=$(grep -o 'corp: [0-9]*/[0-9]*[A-Za-z]*' "$dir/log" | tail -n 1 | cut -d' ' -f2)
  printf 'fuzz_%-12s %10s runs in %4s s (%s/s), cov %s ft %s, corpus %s: ' "$t" "${runs:-?}" "${secs:-?}" \
    "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}"
  # A process the reader forks (the HDF5 reader does) that crashes under the sanitizers
  # leaves an artifact while the harness itself goes on: that counts as a crash too.
  local extra
  extra=$(find "$dir" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | head -n 1)
  if [ $rc -eq 0 ] && [ -z "$extra" ]; then
    echo ok
    return 0
  fi
  local kind=crash unit
  [ $rc -eq 0 ] && kind="crash in a child process"
  grep -q 'ERROR: LeakSanitizer' "$dir/log" && kind=leak
  grep -q 'ERROR: libFuzzer: timeout' "$dir/log" && kind=timeout
  grep -q 'ERROR: libFuzzer: out-of-memory' "$dir/log" && kind=out-of-memory
  unit=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$dir/log" | tail -n 1)
  [ -z "$unit" ] && unit=$extra
  echo "FAILED ($kind, exit $rc)"
  echo "  reproducer: ${unit:-none written}"
  echo "  log: $dir/log"
  grep -m 3 -E '^(==[0-9]+==ERROR|SUMMARY|fuzz: |.*runtime error)' "$dir/log" | sed 's/^/  /' || true
  return 1
}

failed=()
if [ "$target" = all ]; then
  for t in "${targets[@]}"; do run_one "$t" "$@" || failed+=("$t"); done
else
  run_one "$target" "$@" || failed+=("$target")
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: failed: ${failed[*]}" >&2
  exit 1
fi
