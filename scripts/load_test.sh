#!/usr/bin/env bash
# Load and fault test of `aaren serve` (loopback only, bounded: SECONDS per point, a few
# minutes in all). Writes results/serve_load.csv, serve_rate.csv, serve_memory.csv and serve.png (to $AAREN_LOAD_RESULTS
# instead when set, for a trial run). $AAREN_BUILD names the build folder (default build-s).
#
#   scripts/load_test.sh [SECONDS] [STREAM COUNTS...]      # default: 4 s; 1 100 1000 10000
#
# For each architecture (the bench model: 3 layers, d_model 128, 4 heads, d_ff 512) and each
# count N: a fresh server, N connections each stepping its own stream one row per request
# (build-s/serve_load), steps/s, p50 / p99 latency, server resident memory. Then, for Aaren:
# the same with --state-dir; a crash test (1000 streams with --state-dir, kill -9 under load,
# restart, every answered step checked and the next output compared with a local replay); a
# hostile test (malformed, wrong-width, non-finite, unknown-stream and oversized requests from
# 8 more connections during load: each must get a 4xx, the streams must not see one); memory
# per stream without the connections (serve_load --memory: streams made one after another over
# short connections, each stepped T tokens): Aaren 10,000 streams x 1 token and 1,000 x 100,
# the Transformer 1,000 x 100 (its KV cache per token), written to results/serve_memory.csv.
# Latency at a given load, written to results/serve_rate.csv: 1,000 Aaren streams with the
# steps offered at a fixed rate in all (serve_load --rate: open loop, latency counted from each
# step's scheduled time) at 5,000 / 10,000 / 15,000 / 20,000 / 25,000 steps/s, and with --state-dir at
# 5,000 / 10,000; beside them the closed-loop point (offered 0: every stream sends again the
# moment its answer arrives) three times, to show how much one measurement varies here.
# A decision model of the same size (rl make-data and rl train on a tiny budget: the load does
# not depend on the weights) at each count too, one step (three encoder tokens) per request,
# each stream a new episode after 1000 steps; skipped with a message where the build has no
# MuJoCo or the model files are missing.
#
# The servers' spill folders go to the run's temporary folder ($TMPDIR), so a server killed
# with SIGKILL leaves nothing behind in /tmp. About 6 minutes on an idle 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-4}
shift || true
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1 100 1000 10000)
build=${AAREN_BUILD:-build-s}
aaren=$build/aaren
client=$build/serve_load
[ -x "$aaren" ] && [ -x "$client" ] || { echo "load_test.sh: build $build first (aaren, serve_load)" >&2; exit 2; }
work=$(mktemp -d /tmp/aaren_load.XXXXXX)
export TMPDIR=$work
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

for arch in aaren transformer; do
  "$aaren" init --arch $arch --d-model 128 --n-heads 4 --n-layers 3 --d-ff 512 --seed 1 \
    --output "$work/$arch.safetensors" >/dev/null
done
# the decision model (hopper: rows of a reward and 11 observations)
decision=""
xml=${AAREN_MUJOCO_XML:-../shared/data/rl/mujoco_xml}
if "$aaren" rl make-data --env hopper --size 500 --train-episodes 16 --eval-episodes 1 --out "$work/rl" \
     --xml-dir "$xml" --quiet >"$work/rl.log" 2>&1 &&
   "$aaren" rl train --data "$work/rl/hopper-medium.hdf5" --arch aaren --d-model 128 --n-heads 4 --n-layers 3 \
     --d-ff 512 --steps 1 --batch 8 --K 4 --eval-episodes 0 --quiet --save "$work/decision.safetensors" \
     >>"$work/rl.log" 2>&1; then
  decision=$work/decision.safetensors
else
  echo "load_test.sh: no decision model rows: $(tail -n 1 "$work/rl.log")"
fi

# start_server LOG ARGS...: sets server_pid and port
start_server() {
  local log=$1
  shift
  "$aaren" serve --port 0 --quiet "$@" >"$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    port=$(sed -n 's/^listening on http:\/\/127\.0\.0\.1:\([0-9]*\)$/\1/p' "$log")
    [ -n "$port" ] && return 0
    sleep 0.1
  done
  echo "load_test.sh: the server did not start: $(cat "$log")" >&2
  exit 1
}
stop_server() { kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""; }

csv=$work/serve_load.csv
echo "arch,durable,streams,steps,seconds,steps_per_s,p50_ms,p99_ms,rss_before_mib,rss_after_mib,rss_per_stream_b" >"$csv"
point() {   # arch durable n: one measurement on a fresh server (arch decision: the decision model)
  local arch=$1 durable=$2 n=$3 extra=() load=()
  [ "$durable" = 1 ] && extra=(--state-dir "$work/state_$n") && rm -rf "$work/state_$n"
  [ "$arch" = transformer ] && extra+=(--max-tokens 256)
  [ "$arch" = decision ] && load=(--width 12 --episode 1000)
  start_server "$work/server.log" --model "$work/$arch.safetensors" --max-streams $((n > 1024 ? n : 1024)) "${extra[@]}"
  local line
  line=$(timeout $((secs + 300)) "$client" --port "$port" --streams "$n" --seconds "$secs" "${load[@]}")
  stop_server
  echo "$arch durable=$durable $line"
  echo "$line" | awk -v a="$arch" -v d="$durable" '{printf "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", a, d, $2, $4, $6, $8, $10, $12, $14, $16, $18}' >>"$csv"
}

for arch in aaren transformer; do
  for n in "${counts[@]}"; do point $arch 0 "$n"; done
done
for n in "${counts[@]}"; do [ "$n" -le 1000 ] && point aaren 1 "$n"; done
if [ -n "$decision" ]; then
  for n in "${counts[@]}"; do point decision 0 "$n"; done
fi

echo "== latency at a fixed offered rate, 1000 Aaren streams"
rate_csv=$work/serve_rate.csv
echo "arch,durable,streams,offered_per_s,steps,seconds,steps_per_s,p50_ms,p99_ms" >"$rate_csv"
rate_point() {   # arch durable n rate (0: closed loop)
  local extra=()
  [ "$2" = 1 ] && extra=(--state-dir "$work/rstate") && rm -rf "$work/rstate"
  start_server "$work/server.log" --model "$work/$1.safetensors" --max-streams 1024 "${extra[@]}"
  local line
  line=$(timeout $((secs + 300)) "$client" --port "$port" --streams "$3" --seconds "$secs" --rate "$4")
  stop_server
  echo "$1 durable=$2 rate=$4 $line"
  echo "$line" | awk -v a="$1" -v d="$2" -v r="$4" '{o = ($1 == "offered_per_s") ? 2 : 0;
    printf "%s,%s,%s,%s,%s,%s,%s,%s,%s\n", a, d, $(o+2), r, $(o+4), $(o+6), $(o+8), $(o+10), $(o+12)}' >>"$rate_csv"
}
for r in 0 5000 10000 15000 20000 25000 0 0; do rate_point aaren 0 1000 $r; done
for r in 5000 10000; do rate_point aaren 1 1000 $r; done

echo "== crash test: kill -9 under load with --state-dir"
rm -rf "$work/crash"
start_server "$work/crash.log" --model "$work/aaren.safetensors" --state-dir "$work/crash"
timeout 300 "$client" --port "$port" --streams 1000 --seconds 60 --acked "$work/acked.txt" >"$work/crash_load.txt" &
client_pid=$!
sleep $((secs + 2))
kill -9 "$server_pid"
wait "$server_pid" 2>/dev/null || true
wait "$client_pid" || true
cat "$work/crash_load.txt"
start_server "$work/crash2.log" --model "$work/aaren.safetensors" --state-dir "$work/crash"
verdict=0
"$client" --port "$port" --verify "$work/acked.txt" --model "$work/aaren.safetensors" --check 1000 || verdict=1
stop_server

echo "== hostile requests during load"
start_server "$work/hostile.log" --model "$work/aaren.safetensors"
"$client" --port "$port" --streams 100 --seconds "$secs" --hostile 8 --acked "$work/h_acked.txt" || verdict=1
"$client" --port "$port" --verify "$work/h_acked.txt" --model "$work/aaren.safetensors" --check 100 || verdict=1
stop_server

echo "== memory per stream, without connections"
mem=$work/serve_memory.csv
echo "arch,streams,tokens_per_stream,seconds,rss_before_mib,rss_after_mib,rss_per_stream_b" >"$mem"
mem_point() {   # arch streams tokens
  local extra=()
  [ "$1" = transformer ] && extra=(--max-tokens $(($3 + 1)))
  start_server "$work/mem.log" --model "$work/$1.safetensors" --max-streams "$2" "${extra[@]}"
  local line
  line=$(timeout 900 "$client" --port "$port" --memory "$2" --steps "$3")
  stop_server
  echo "$1 $line"
  echo "$line" | awk -v a="$1" '{printf "%s,%s,%s,%s,%s,%s,%s\n", a, $2, $4, $6, $8, $10, $12}' >>"$mem"
}
mem_point aaren 10000 1
mem_point aaren 1000 100
mem_point transformer 1000 100

out=${AAREN_LOAD_RESULTS:-results}   # another folder for a trial run that must not replace the recorded figures
mkdir -p "$out"
cp "$mem" "$out/serve_memory.csv.tmp" && mv "$out/serve_memory.csv.tmp" "$out/serve_memory.csv"
cp "$rate_csv" "$out/serve_rate.csv.tmp" && mv "$out/serve_rate.csv.tmp" "$out/serve_rate.csv"
cp "$csv" "$out/serve_load.csv.tmp" && mv "$out/serve_load.csv.tmp" "$out/serve_load.csv"
/usr/bin/python3 - "$out/serve_load.csv" "$out/serve.png" <<'EOF'
import csv, sys
sys.path.insert(0, "python")
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from atomic_save import save_figure
rows = list(csv.DictReader(open(sys.argv[1])))
fig, ax = plt.subplots(1, 2, figsize=(10, 4))
for arch, durable, style in (("aaren", "0", "o-"), ("transformer", "0", "s-"), ("aaren", "1", "o--"),
                             ("decision", "0", "^-")):
    r = [x for x in rows if x["arch"] == arch and x["durable"] == durable]
    if not r:
        continue
    n = [int(x["streams"]) for x in r]
    label = (arch if arch != "decision" else "decision (aaren, 3 tokens a step)") + (" --state-dir" if durable == "1" else "")
    ax[0].plot(n, [float(x["steps_per_s"]) for x in r], style, label=label)
    m = [(k, float(x["rss_after_mib"])) for k, x in zip(n, r) if float(x["rss_after_mib"]) > 0]   # not when it stopped early
    ax[1].plot([k for k, _ in m], [v for _, v in m], style, label=label)
for a, t in zip(ax, ("steps/s through HTTP", "server resident memory (MiB)")):
    a.set_xscale("log"); a.set_xlabel("concurrent streams (one connection each)"); a.set_title(t); a.grid(alpha=0.3); a.legend()
fig.tight_layout()
save_figure(fig, sys.argv[2], dpi=110)
EOF
echo "wrote $out/serve_load.csv, $out/serve_rate.csv, $out/serve_memory.csv and $out/serve.png"
[ $verdict = 0 ] && echo "load_test.sh: crash and hostile checks passed" || { echo "load_test.sh: a check FAILED"; exit 1; }
