#!/usr/bin/env python3
"""Benchmarks of the Python package against the C API and the PyTorch twin (issue 18's targets):

  1. streaming: microseconds per token of aaren.Stream.step from Python, of the C API's
     aaren_stream_step in a C loop (examples/stream_tokens, timed as the difference of two
     runs of different lengths so that start-up and loading cancel), and of the PyTorch
     twin's step (python/aaren_twin.py, Encoder.step); targets: Python <= 1.5x C, and
     >= 10x faster than the twin;
  2. training: seconds per step of a torch model embed -> encoder -> head (MSE, backward,
     gradient clipping, AdamW) with aaren.torch.AarenEncoder as the encoder and with the
     twin's own scan, same batch, lengths, threads and BLAS; target: AarenEncoder >= 2x
     faster at N = 1024.

Default model: the bench model of `aaren bench` (Aaren, 3 layers, d_model 128, 4 heads,
d_ff 512, post-norm, GELU). Prints the machine, the method and every figure; --csv writes them.

  PYTHONPATH=python AAREN_LIBRARY=build/libaaren.so /usr/bin/python3 python/bench_python.py \\
      --stream-tokens build/stream_tokens [--threads 2] [--batch 8] [--csv results/bench_python.csv]"""
import argparse
import ctypes
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
aaren = at = twin = lib = None   # imported in main(), once OMP_NUM_THREADS is set


def _imports():
    global aaren, at, twin, lib
    import aaren as a
    import aaren.torch as t
    import aaren_twin as tw
    from aaren._lib import lib as lb
    aaren, at, twin, lib = a, t, tw, lb


def machine(threads):
    model = ctypes.create_string_buffer(256)
    cores = ctypes.c_int()
    lib.aaren_cpu_info.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_int)]
    lib.aaren_cpu_info(model, 256, ctypes.byref(cores))
    load = os.getloadavg()
    return {"cpu": model.value.decode(), "cores_per_socket": cores.value, "cpus": os.cpu_count(),
            "load_1_5_15": f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", "python": platform.python_version(),
            "torch": torch.__version__, "library": aaren.version(), "threads": threads,
            "torch_threads": torch.get_num_threads()}


def median_us(f, n, warm=20):
    """(median wall, mean process CPU) microseconds of f over n calls."""
    for _ in range(warm):
        f()
    t = []
    c0 = time.process_time()
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        t.append(time.perf_counter() - t0)
    return 1e6 * statistics.median(t), 1e6 * (time.process_time() - c0) / n


def c_per_token(binary, model_path, n_short, n_long, reps):
    """Microseconds per token of aaren_stream_step in a C loop: the median over reps of
    (time(n_long) - time(n_short)) / (n_long - n_short) of whole runs of the example."""
    def run(n):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([binary, model_path, str(n)], check=True, capture_output=True)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.perf_counter() - t0, (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    per, cpu = [], []
    for _ in range(reps):
        (a, ac), (b, bc) = run(n_short), run(n_long)
        per.append(1e6 * (b - a) / (n_long - n_short))
        cpu.append(1e6 * (bc - ac) / (n_long - n_short))
    return statistics.median(per), per, statistics.median(cpu)


def window(f, xs):
    """(wall, CPU) microseconds per token of f over the tokens xs, in one plain loop."""
    c0, t0 = time.process_time(), time.perf_counter()
    for x in xs:
        f(x)
    n = len(xs)
    return 1e6 * (time.perf_counter() - t0) / n, 1e6 * (time.process_time() - c0) / n


def stream_figures(args, cfg):
    """Per-token (wall, CPU) of the three streams, each a median over args.reps rounds that
    alternate them, so that all three see the same machine."""
    m = aaren.Model.init(**cfg, seed=1)
    D = cfg["d_model"]
    xs = np.random.default_rng(0).standard_normal((args.tokens, D)).astype(np.float32)
    xt = torch.from_numpy(xs[:, None, :])
    py, c, tw = [], [], []
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "bench.safetensors")
        m.save(path)
        enc = twin.load_encoder(path)
        for _ in range(args.reps):
            with aaren.Stream(m, max_tokens=args.tokens + 1) as s:
                s.step(xs[0])
                py.append(window(s.step, xs[1:]))
            wall, _, cpu = c_per_token(args.stream_tokens, path, 2000, 2000 + args.c_tokens, 1)
            c.append((wall, cpu))
            states = [None]

            def tstep(x):
                with torch.no_grad():
                    _, states[0] = enc.step(x, states[0])
            tw.append(window(tstep, xt[:args.twin_tokens]))
    m.close()
    med = lambda v, k: statistics.median(x[k] for x in v)  # noqa: E731
    return {"python_us": med(py, 0), "python_cpu_us": med(py, 1), "c_us": med(c, 0), "c_cpu_us": med(c, 1),
            "twin_us": med(tw, 0), "twin_cpu_us": med(tw, 1), "c_runs": [x[0] for x in c]}


def train_setup(enc, args, n, d_io, D, use_scan_arg):
    """One training step (embed -> enc -> head, MSE, backward, clip, AdamW) as a function."""
    gen = torch.Generator().manual_seed(1)
    embed, head = torch.nn.Linear(d_io, D), torch.nn.Linear(D, d_io)
    params = list(embed.parameters()) + list(enc.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=1e-3)
    x = torch.randn(args.batch, n, d_io, generator=gen)
    y = torch.randn(args.batch, n, d_io, generator=gen)

    def step():
        opt.zero_grad(set_to_none=False)
        h = enc(embed(x), "scan") if use_scan_arg else enc(embed(x))
        loss = F.mse_loss(head(h), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
    return step


def timed(f):
    c0, t0 = time.process_time(), time.perf_counter()
    f()
    return time.perf_counter() - t0, time.process_time() - c0


def train_pair(args, cfg, n):
    """Median (wall, CPU) seconds per step of AarenEncoder and of the twin's scan, their steps
    alternated so that both see the same machine."""
    ours = train_setup(at.AarenEncoder(**cfg, seed=1), args, n, 128, cfg["d_model"], False)
    tw = twin.init_encoder(twin.Config("aaren", cfg["d_model"], cfg["n_heads"], cfg["n_layers"], cfg["d_ff"],
                                       "post", "gelu", 1e-5), 1)
    theirs = train_setup(tw, args, n, 128, cfg["d_model"], True)
    ours(), theirs()   # warm-up
    a, b = [], []
    for _ in range(args.train_reps):
        a.append(timed(ours))
        b.append(timed(theirs))
    med = lambda v, k: statistics.median(x[k] for x in v)  # noqa: E731
    return (med(a, 0), med(a, 1)), (med(b, 0), med(b, 1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stream-tokens", required=True, help="the built examples/stream_tokens program")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="library and torch threads [%(default)s]")
    ap.add_argument("--batch", type=int, default=8, help="training batch [%(default)s]")
    ap.add_argument("--lengths", default="256,1024", help="training lengths [%(default)s]")
    ap.add_argument("--tokens", type=int, default=2000, help="streamed tokens timed from Python [%(default)s]")
    ap.add_argument("--c-tokens", type=int, default=20000, help="extra tokens of the longer C run [%(default)s]")
    ap.add_argument("--reps", type=int, default=5, help="streaming rounds (Python window, C run pair, twin) [%(default)s]")
    ap.add_argument("--twin-tokens", type=int, default=300, help="tokens of the twin's window [%(default)s]")
    ap.add_argument("--train-reps", type=int, default=5, help="timed training steps per case [%(default)s]")
    ap.add_argument("--csv", help="write the figures here")
    args = ap.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)   # before the library loads
    _imports()
    torch.set_num_threads(args.threads)
    cfg = dict(arch="aaren", d_model=128, n_heads=4, n_layers=3, d_ff=512)
    mach = machine(args.threads)
    print("machine: " + "; ".join(f"{k} {v}" for k, v in mach.items()))
    print(f"model: {cfg}; OMP_NUM_THREADS={args.threads} for the library and the C runs, torch threads {args.threads}")
    rows = []

    s = stream_figures(args, cfg)
    print(f"\n1. streaming, one stream, microseconds per token: wall time (process CPU time), medians of {args.reps} "
          "alternated rounds")
    print(f"   aaren.Stream.step from Python : {s['python_us']:8.1f} ({s['python_cpu_us']:.1f})   a loop over {args.tokens} tokens")
    print(f"   C API aaren_stream_step       : {s['c_us']:8.1f} ({s['c_cpu_us']:.1f})   examples/stream_tokens, runs of "
          f"2000 and {2000 + args.c_tokens} tokens differenced (rounds: {', '.join(f'{v:.1f}' for v in s['c_runs'])})")
    print(f"   PyTorch twin Encoder.step     : {s['twin_us']:8.1f} ({s['twin_cpu_us']:.1f})   a loop over {args.twin_tokens} tokens")
    r_c, r_t = s["python_us"] / s["c_us"], s["twin_us"] / s["python_us"]
    r_c_cpu, r_t_cpu = s["python_cpu_us"] / s["c_cpu_us"], s["twin_cpu_us"] / s["python_cpu_us"]
    v1, v2 = r_c <= 1.5, r_t >= 10
    rows += [(k, s[k]) for k in ("python_us", "python_cpu_us", "c_us", "c_cpu_us", "twin_us", "twin_cpu_us")]

    print(f"\n2. training, batch {args.batch}, d_io 128, AdamW, clip 1: median seconds per step of {args.train_reps}, "
          "the two alternated, wall (process CPU)")
    verdict_train = None
    for n in [int(v) for v in args.lengths.split(",")]:
        (ours, ours_cpu), (theirs, theirs_cpu) = train_pair(args, cfg, n)
        ratio = theirs / ours
        print(f"   N = {n:5d}: AarenEncoder {ours:7.3f} ({ours_cpu:.3f})   twin scan {theirs:7.3f} ({theirs_cpu:.3f})   "
              f"ratio {ratio:5.2f}x (CPU {theirs_cpu / ours_cpu:.2f}x)   {args.batch * n / ours:,.0f} vs "
              f"{args.batch * n / theirs:,.0f} tokens/s")
        rows += [(f"train_{n}_aaren_s", ours), (f"train_{n}_twin_s", theirs),
                 (f"train_{n}_aaren_cpu_s", ours_cpu), (f"train_{n}_twin_cpu_s", theirs_cpu)]
        if n == 1024:
            verdict_train = ratio >= 2

    print("\ntargets")
    print(f"   Stream.step <= 1.5x the C API          : {'PASS' if v1 else 'MISS'} ({r_c:.2f}x; CPU time {r_c_cpu:.2f}x)")
    print(f"   Stream.step >= 10x faster than the twin: {'PASS' if v2 else 'MISS'} ({r_t:.1f}x; CPU time {r_t_cpu:.1f}x)")
    if verdict_train is not None:
        print(f"   AarenEncoder >= 2x the twin at N = 1024: {'PASS' if verdict_train else 'MISS'}")
    print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if args.csv:
        from atomic_save import atomic_open
        with atomic_open(args.csv) as f:
            f.write("figure,value\n")
            for k, v in rows:
                f.write(f"{k},{v:.6g}\n")
            for k, v in mach.items():
                f.write(f"machine_{k},\"{v}\"\n")
        print(f"wrote {args.csv}")


if __name__ == "__main__":
    main()
