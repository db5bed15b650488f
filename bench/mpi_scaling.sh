#!/usr/bin/env bash
# Data-parallel scaling on this machine: tokens/s of `aaren train` (the running-max task) on the
# bench model (Aaren, 3 layers, d_model 128, 4 heads, d_ff 512: 0.6M parameters) at N tokens,
# with P = 1 and 2 ranks of one thread each under mpirun, the time per step of the exchange
# across ranks (the engine's own timer around the gradient all-reduce and the loss gather,
# rank 0, its wait for the slower rank included), and the scaling efficiency
# tokens/s(P = 2) / (2 x tokens/s(P = 1)). The global batch is the same for both P (each of 2
# ranks computes half of it). Prints the method and the machine; exit 0 whatever the figures.
#
# usage: bench/mpi_scaling.sh [--aaren PATH] [--tokens N] [--batch B] [--steps K] [--reduce allreduce|deterministic]
#                             [--transport tcp|shm]   (tcp: loopback TCP, as the tests use; shm: Open MPI's
#                             shared memory between ranks of one machine, its own default there)
set -euo pipefail
aaren=build/aaren tokens=1024 batch=8 steps=6 reduce=allreduce transport=tcp
while [ $# -gt 0 ]; do
  case "$1" in
    --aaren) aaren=$2; shift 2 ;;
    --tokens) tokens=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --reduce) reduce=$2; shift 2 ;;
    --transport) transport=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "mpi_scaling.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$reduce" in allreduce) extra=() ;; deterministic) extra=(--deterministic-reduce) ;;
  *) echo "mpi_scaling.sh: --reduce '$reduce': expected allreduce or deterministic" >&2; exit 2 ;; esac
[ -x "$aaren" ] || { echo "mpi_scaling.sh: $aaren is not an executable (build first, or --aaren PATH)" >&2; exit 1; }
"$aaren" --version | grep -q "mpi: yes" || { echo "mpi_scaling.sh: $aaren was built without MPI" >&2; exit 1; }
command -v mpirun >/dev/null || { echo "mpi_scaling.sh: mpirun not found (Debian openmpi-bin)" >&2; exit 1; }
# loopback only; Open MPI refuses root without these two
case "$transport" in tcp) btl=self,tcp ;; shm) btl=self,vader ;;
  *) echo "mpi_scaling.sh: --transport '$transport': expected tcp or shm" >&2; exit 2 ;; esac
export OMPI_MCA_btl=$btl OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
model=(--arch aaren --d-model 128 --n-heads 4 --n-layers 3 --d-ff 512 --dropout 0)

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; $(mpirun --version | head -1)"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min); other processes share these cores when the load is above 0"
echo "method: aaren --threads 1 train ${model[*]} --tokens $tokens --batch $batch --steps $steps (global batch; P ranks each"
echo "        compute $batch/P sequences), default --grad-shards (one per rank), reduce: $reduce, transport: $transport ($btl); tokens/s over the run's"
echo "        steps (the engine's count, first step included); exchange: the engine's timer on rank 0"
declare -A tps ex
for P in 1 2; do
  out=$(mpirun --oversubscribe -np "$P" "$aaren" --threads 1 train "${model[@]}" --tokens "$tokens" --batch "$batch" \
        --steps "$steps" --log-every "$steps" "${extra[@]}" 2>&1 | tr '\r' '\n' | sed 's/\x1b\[K//g')
  line=$(grep -m1 '^trained' <<<"$out") || { echo "P=$P failed:"; echo "$out" | tail -5; exit 1; }
  tps[$P]=$(sed -E 's/.*s, ([0-9.]+) tokens\/s.*/\1/' <<<"$line")
  e=$(grep -m1 '^exchange across' <<<"$out" || true)
  ex[$P]=$( [ -n "$e" ] && sed -E 's/.*: ([0-9.]+) ms a step, ([0-9.]+)% of.*/\1 ms a step (\2% of the time)/' <<<"$e" || echo "none (one rank)")
  printf 'P=%d  %s  tokens/s %s  exchange %s\n' "$P" "$(sed -E 's/^trained ([0-9]+) steps \(([0-9.]+) s.*/\1 steps in \2 s/' <<<"$line")" \
    "${tps[$P]}" "${ex[$P]}"
done
awk -v a="${tps[1]}" -v b="${tps[2]}" 'BEGIN { printf "speed-up %.2fx, scaling efficiency %.0f%% (tokens/s at P=2 over 2 x tokens/s at P=1); target 1.8x\n", b / a, 100 * b / (2 * a) }'
