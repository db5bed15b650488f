#!/usr/bin/env python3
"""Benchmark of the PyTorch twin (aaren_twin.py) for `aaren bench`.

Times the twin of an Aaren model the way `aaren bench` times the C library:

  training   embed (Linear d_io -> D) -> Encoder (parallel `scan` path) -> head (Linear
             D -> d_io), MSE over every token, backward, gradient clipping to norm 1.0,
             torch.optim.AdamW (lr 1e-3, betas 0.9/0.999, eps 1e-8, weight decay 0.01 on
             weight matrices only, as aaren_seqmodel_decay_mask); random N(0, 1) data.
             One warm-up step, then the median of K steps; tokens/s = batch * N / median.
  streaming  Encoder.step, one token at a time under torch.no_grad(); every token timed,
             median over the window after 10 warm-up tokens.

It also reports which BLAS torch loaded, read from /proc/self/maps after a matrix
product; with the reference BLAS the comparison is meaningless and it says so loudly.

Besides the human-readable lines it prints machine-readable ones for `aaren bench`:
  RESULT train N TOKENS_PER_S | RESULT stream_us US | RESULT blas_reference 0|1
Exit code 77 when torch or numpy is missing.
"""

import argparse
import ctypes
import os
import statistics
import subprocess
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:
    print(f"bench_twin: {e}; install python3-torch", file=sys.stderr)
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import aaren_twin as twin
except ImportError as e:
    print(f"bench_twin: cannot import aaren_twin ({e})", file=sys.stderr)
    sys.exit(77)

MAX_REPS = 50


def more_reps(rule, done, spent):
    """Same stopping rule as aaren bench: (hard_min, min_reps, budget_s, long_s)."""
    hard_min, min_reps, budget_s, long_s = rule
    if done >= MAX_REPS:
        return False
    if done < hard_min:
        return True
    if spent >= long_s:
        return False
    return done < min_reps or spent < budget_s


def classify(path):
    low = path.lower()
    if "mkl" in low:
        return "MKL"
    if "openblas" in low:
        return "OpenBLAS"
    if "blis" in low:
        return "BLIS"
    if "/blas/" in low or os.path.basename(low).startswith("libblas"):
        return "reference BLAS (netlib)"
    return "unknown"


def mapped_files():
    """[(start, end, path)] of the files mapped into this process."""
    out = []
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and parts[5].startswith("/"):
                lo, hi = (int(v, 16) for v in parts[0].split("-"))
                out.append((lo, hi, parts[5]))
    return out


def sgemm_provider(maps):
    """The file whose sgemm_ torch's CPU library binds to (looked up from that library's
    handle, so in its own search order), or None."""
    torch_cpu = next((p for _, _, p in maps if "libtorch_cpu" in os.path.basename(p)), None)
    if not torch_cpu:
        return None
    try:
        addr = ctypes.cast(ctypes.CDLL(torch_cpu).sgemm_, ctypes.c_void_p).value
    except (OSError, AttributeError):
        return None
    return next((p for lo, hi, p in maps if lo <= addr < hi), None)


def blas_report():
    """(description, is_reference) of the BLAS torch uses: the library that provides the
    sgemm_ torch binds to, and every BLAS-like library mapped into the process."""
    a = torch.randn(256, 256)
    (a @ a).sum().item()                      # makes sure the BLAS is loaded and used
    maps = mapped_files()
    libs = sorted({os.path.realpath(p) for _, _, p in maps
                   if any(k in os.path.basename(p).lower() for k in ("blas", "mkl", "blis"))})
    mapped = "; ".join(f"{p} ({classify(p)})" for p in libs) or "none"
    provider = sgemm_provider(maps)
    if provider:
        kind = classify(os.path.realpath(provider))
        return f"sgemm_ from {os.path.realpath(provider)} ({kind}); mapped: {mapped}", kind.startswith("reference")
    # no answer from the symbol: judge by the libblas.so.3 that is mapped
    reference = any(classify(p).startswith("reference") for p in libs) and not any(
        classify(p) in ("MKL", "OpenBLAS", "BLIS") for p in libs if "libblas" in os.path.basename(p))
    return f"mapped: {mapped}", reference


def alternatives_line():
    """The libblas.so.3 alternative Debian's torch resolves, or None."""
    try:
        out = subprocess.run(["update-alternatives", "--display", "libblas.so.3-x86_64-linux-gnu"],
                             capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        if "currently points to" in line:
            return line.strip()
    return None


def make_encoder(args):
    if args.model:
        enc = twin.load_encoder(args.model)
        if enc.config.arch != "aaren":
            raise ValueError(f"{args.model}: the twin benchmark needs an Aaren checkpoint")
        return enc
    config = twin.Config("aaren", args.d_model, args.n_heads, args.n_layers, args.d_ff,
                         args.norm, args.activation, args.ln_eps)
    return twin.init_encoder(config, args.seed)


def bench_training(enc, args, n, rule):
    """Median seconds of one training step at batch x n tokens, and K."""
    gen = torch.Generator().manual_seed(args.seed)
    d, D = args.d_io, enc.config.d_model
    embed, head = nn.Linear(d, D), nn.Linear(D, d)
    params = list(embed.parameters()) + list(enc.parameters()) + list(head.parameters())
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    x = torch.randn(args.batch, n, d, generator=gen)
    y = torch.randn(args.batch, n, d, generator=gen)

    def step():
        opt.zero_grad(set_to_none=False)
        loss = F.mse_loss(head(enc(embed(x), "scan")), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()

    step()                                     # warm-up
    times, spent = [], 0.0
    while more_reps(rule, len(times), spent):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
        spent += times[-1]
    return statistics.median(times), len(times)


def bench_streaming(enc, args):
    """(median, mean) microseconds per token of Encoder.step over the window."""
    gen = torch.Generator().manual_seed(args.seed + 3)
    D = enc.config.d_model
    warm, n = 10, args.stream_tokens
    xs = torch.randn(warm + n, 1, D, generator=gen)
    times, states = [], None
    with torch.no_grad():
        for t in range(warm + n):
            t0 = time.perf_counter()
            _, states = enc.step(xs[t], states)
            if t >= warm:
                times.append(time.perf_counter() - t0)
    return 1e6 * statistics.median(times), 1e6 * statistics.fmean(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--n-heads", type=int, default=4)
    p.add_argument("--n-layers", type=int, default=3)
    p.add_argument("--d-ff", type=int, default=512)
    p.add_argument("--norm", choices=twin.NORMS, default="post")
    p.add_argument("--activation", choices=twin.ACTIVATIONS, default="gelu")
    p.add_argument("--ln-eps", type=float, default=1e-5)
    p.add_argument("--d-io", type=int, default=128, help="d_in = d_out of embed and head")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--tokens", default="256,1024", help="training lengths, comma-separated")
    p.add_argument("--stream-tokens", type=int, default=1000, help="tokens in the latency window")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--model", help="an Aaren checkpoint (.safetensors) instead of random weights")
    p.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rule = (2, 3, 0.2, 1.0) if args.quick else (3, 5, 2.0, 30.0)
    try:
        enc = make_encoder(args)
    except ValueError as e:
        print(f"bench_twin: error: {e}", file=sys.stderr)
        return 2

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, Python {sys.version.split()[0]}")
    blas, reference = blas_report()
    print(f"BLAS torch loaded: {blas}")
    alt = alternatives_line()
    if alt:
        print(f"libblas.so.3 alternative: {alt}")
    if reference:
        bar = "!" * 78
        print(bar)
        print("!! WARNING: torch runs on the REFERENCE BLAS (netlib), which is many times slower")
        print("!! than an optimised BLAS: the comparison with the twin is MEANINGLESS. Point")
        print("!! libblas.so.3 at OpenBLAS: update-alternatives --config libblas.so.3-x86_64-linux-gnu")
        print(bar)
    print(f"RESULT blas_reference {1 if reference else 0}", flush=True)

    c = enc.config
    print(f"model: Aaren, d_model {c.d_model}, {c.n_heads} heads, {c.n_layers} layers, d_ff {c.d_ff}, "
          f"{c.norm}-norm, {c.activation}; {'weights of ' + args.model if args.model else 'random weights'}")
    print(f"training: embed {args.d_io}->{c.d_model}, Encoder scan path, head {c.d_model}->{args.d_io}, "
          f"MSE, clip 1.0, AdamW; batch {args.batch}; warm-up, then median of K steps")
    print(f"  {'N':>6} {'K':>3} {'step ms':>10} {'tokens/s':>11}", flush=True)
    for n in (int(v) for v in args.tokens.split(",") if v):
        sec, k = bench_training(enc, args, n, rule)
        tps = args.batch * n / sec
        print(f"  {n:>6} {k:>3} {1e3 * sec:>10.1f} {tps:>11.0f}")
        print(f"RESULT train {n} {tps:.1f}", flush=True)

    med, mean = bench_streaming(enc, args)
    print(f"streaming: Encoder.step under torch.no_grad(), {args.stream_tokens} tokens after 10 warm-up, "
          f"every token timed: median {med:.1f} us/token (mean {mean:.1f})")
    print(f"RESULT stream_us {med:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
