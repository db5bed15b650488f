#!/usr/bin/env bash
# Configures and builds into build/ (release) or, with --sanitize, build-san/ (ASan + UBSan).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-san; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DAAREN_SANITIZE=ON)
else
  dir=build; flags=(-DCMAKE_BUILD_TYPE=Release)
fi
cmake -S . -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j "$(nproc)"
