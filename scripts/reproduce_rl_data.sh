#!/usr/bin/env bash
# The offline-RL data sets of results/rl-data.md: for each environment, trains the ARS
# behaviour policies and writes medium, medium-replay and medium-expert into --data-dir
# (`aaren rl make-data --seed 0`), keeping its output in results/rl-data/ENV.log and its
# training curve in results/rl-data/ENV-ars.csv; then summarises every file with `aaren rl info`.
# Environments whose log exists are not made again (delete the log to redo one).
#
#   bash scripts/reproduce_rl_data.sh [--envs "halfcheetah hopper walker2d ant"] [--data-dir rl_data]
set -euo pipefail
cd "$(dirname "$0")/.."
envs="halfcheetah hopper walker2d ant"
data_dir=rl_data
while [ $# -gt 0 ]; do
  case "$1" in
    --envs) envs="$2"; shift 2 ;;
    --data-dir) data_dir="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
bin="${AAREN_BIN:-build/aaren}"
[ -x "$bin" ] || bash scripts/build.sh
xml="${AAREN_MUJOCO_XML:-${AAREN_SHARED:-../shared}/data/rl/mujoco_xml}"
mkdir -p results/rl-data "$data_dir"
for env in $envs; do
  [ -f "results/rl-data/$env.log" ] && continue
  echo "== $env"
  "$bin" rl make-data --env "$env" --out "$data_dir" --seed 0 --xml-dir "$xml" --quiet | tee "results/rl-data/$env.log.part"
  mv "results/rl-data/$env.log.part" "results/rl-data/$env.log"
  cp "$data_dir/$env-ars.csv" "results/rl-data/$env-ars.csv"
done
/usr/bin/python3 python/summarize_rl_data.py "$bin" "$data_dir" results/rl-data results/rl-data.md
