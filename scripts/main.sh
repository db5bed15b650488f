#!/usr/bin/env bash
# The main job: installs what is missing, builds, then trains an Aaren and a Transformer with
# the same settings, compares them and streams through the trained models:
#   - with ../shared/data present: forecasting on ETTh1 (aaren demo --data, forecast plots in
#     demo_out/), each test window streamed token by token and checked against the parallel path;
#   - otherwise: the synthetic running-maximum task (aaren demo).
# Extra arguments go to aaren demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
etth1="${AAREN_SHARED:-../shared}/data/forecasting/ETTh1/ETTh1.csv"
if [ -f "$etth1" ]; then
  ./build/aaren demo --data "$etth1" "$@"
else
  echo "($etth1 not found: running the synthetic task instead)"
  ./build/aaren demo "$@"
fi
