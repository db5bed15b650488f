#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs the demonstration that the
# parallel scan, the token-by-token stream and the quadratic reference agree, with timings.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
./build/aaren demo "$@"
