#!/usr/bin/env bash
# The test suite: installs what is missing, builds, runs every test in the release build,
# then again in a build with AddressSanitizer and UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
(cd build && ctest --output-on-failure)
bash scripts/build.sh --sanitize
(cd build-san && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   ctest --output-on-failure)
# Every fuzz harness for a few seconds (clang, libFuzzer, ASan + UBSan, build-fuzz/); any
# crash, leak or time-out fails the suite.
bash scripts/fuzz.sh all "${AAREN_FUZZ_SECONDS:-8}"
echo "all tests passed (release and sanitizer builds)"
