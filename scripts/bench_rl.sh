#!/usr/bin/env bash
# Per-step inference latency and agent memory of the decision models, on a quiet machine:
# trains a Decision Transformer and a Decision Aaren of the grid's size for a few updates
# (quality is not the point here) on --data, then evaluates each agent mode over full
# 1000-step HalfCheetah episodes (HalfCheetah never terminates early, so every episode has
# the same length). Writes results/rl-latency.md.
#
#   bash scripts/bench_rl.sh [--data rl_data/halfcheetah-medium.hdf5] [--episodes 2] [--threads 1]
set -euo pipefail
cd "$(dirname "$0")/.."
data=rl_data/halfcheetah-medium.hdf5
episodes=2
threads=1
while [ $# -gt 0 ]; do
  case "$1" in
    --data) data="$2"; shift 2 ;;
    --episodes) episodes="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
bin="${AAREN_BIN:-build/aaren}"
[ -x "$bin" ] || bash scripts/build.sh
xml="${AAREN_MUJOCO_XML:-${AAREN_SHARED:-../shared}/data/rl/mujoco_xml}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS="$threads"
for arch in transformer aaren; do
  "$bin" rl train --data "$data" --arch "$arch" --steps 20 --eval-episodes 0 --quiet --save "$tmp/$arch.safetensors" > /dev/null
done
{
  "$bin" rl eval --model "$tmp/transformer.safetensors" --mode recompute --episodes "$episodes" --xml-dir "$xml"
  "$bin" rl eval --model "$tmp/transformer.safetensors" --mode full --episodes "$episodes" --xml-dir "$xml"
  "$bin" rl eval --model "$tmp/aaren.safetensors" --mode all --episodes "$episodes" --xml-dir "$xml"
} | grep "^result:" > "$tmp/results.txt"
cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
/usr/bin/python3 - "$tmp/results.txt" "$data" "$episodes" "$threads" "$cpu" "$(date -u +%Y-%m-%d)" <<'PY'
import sys
src, data, episodes, threads, cpu, day = sys.argv[1:7]
rows = [dict(f.split("=", 1) for f in l.split()[1:]) for l in open(src) if l.startswith("result:")]
out = ["# Decision models: inference cost per environment step", "",
       f"Produced by `bash scripts/bench_rl.sh` on {day}: {cpu}, {threads} OpenMP thread(s), release build, nothing "
       f"else running. Models of the grid's size (K = 20, 3 blocks, width 128, 1 head, d_ff 512) trained for 20 "
       f"updates on `{data}` (the cost does not depend on the weights), then {episodes} HalfCheetah episodes of "
       "1000 steps per mode (HalfCheetah never terminates early).", "",
       "Latency: mean wall time of the model's work per environment step (the agent's act and reward calls; "
       "the physics is not counted). Memory: the bytes the agent holds for its context at the end of an episode "
       "(stream state and scratch, or the window's history and the activations of one window).", "",
       "| architecture | agent | context | µs per step | agent bytes |", "|---|---|---|---|---|"]
ctx = {"window-recompute": "last 20 steps, recomputed every step", "window-streams": "last 20 steps, 20 streams",
       "full-stream": "whole episode, one stream"}
for r in rows:
    out.append(f"| {r['arch']} | {r['mode']} | {ctx[r['mode']]} | {float(r['step_us']):.0f} | {int(r['agent_bytes']):,} |")
out += ["", "The Transformer's whole-episode stream keeps a KV cache that grows by 2 x 3 layers x 128 floats per token "
        "(3 tokens per step), allocated for the 3000 tokens of a full episode; Aaren's state is the same "
        "3 layers x 1 head x (128 + 2) floats per stream at every step.", ""]
open("results/rl-latency.md", "w").write("\n".join(out))
print("wrote results/rl-latency.md")
PY
