#!/usr/bin/env python3
"""Compares the C `aaren` tool with the PyTorch twin (python/aaren_twin.py).

    /usr/bin/python3 tests/test_twin.py --aaren build/aaren [--keep]

1. The twin checks itself in float64: its naive, scan and stream paths agree, a scan prefix
   continued by streaming equals the whole pass, its gradients pass finite differences, math.md's
   backward recurrences equal autograd, its file readers reject bad files, and its own float32
   error stays well below the tolerance used for the C tool.
2. For a set of configurations the twin writes a model, input X and upstream gradient G; the C
   tool's `encode` (all three modes) and `grad` are compared with the twin in float64.
3. A deliberately perturbed model must fail that comparison, and the C tool must reject bad
   inputs with a clear message.

Prints one line per check and a verdict; exit 0 pass, 1 fail, 77 skipped (no torch/numpy).
"""

import argparse
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
    from torch.nn.utils.stateless import functional_call
except ImportError as e:
    print(f"test_twin: SKIPPED: needs numpy and torch ({e}); run it with /usr/bin/python3")
    sys.exit(77)

TWIN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "python")
sys.path.insert(0, TWIN_DIR)
import aaren_twin as twin  # noqa: E402

# Tolerances, as max |error| / max |reference| of a tensor.
#
# C vs twin: the C tool computes in float32 (unit roundoff 6e-8). Through up to 3 blocks of
# projections, LayerNorm, softmax/scan over 64 tokens and their backward passes, the twin's own
# float32 result is within ~1e-6 of float64 (measured below by `check_calibration`, which
# requires at most TOL_C / 4), so a correct C implementation with a different summation order
# has >= 10x headroom (the C tool, measured: <= 4e-7 in Y, <= 1e-6 in gradients). Faults are far larger: a missing or doubled term in a gradient, a wrong
# scan leaf, or a dropped bias shows at 1e-2..1e0; the tanh approximation of GELU in place of
# the exact erf form shows at ~1e-4 in Y and ~3e-4 in gradients; ignoring a non-default ln_eps
# (two configurations use 1e-3) at ~1e-3; nudging one weight by 0.01 at 6e-4 in Y and 9e-3 in
# gradients (check_c_detects_broken_model). A tolerance of 1e-4 would let the GELU slip through,
# hence 2e-5.
TOL_C = 2e-5
# Some gradients are zero in exact arithmetic (k_proj.bias: softmax ignores a shift of all
# scores; the whole query path when N = 1), so their float32 results are pure rounding noise.
# A gradient whose float64 max |reference| is below ZERO_GRAD times the largest one in the same
# file counts as zero, and its error is measured against that largest one instead.
ZERO_GRAD = 1e-9
# Twin paths against each other in float64: they differ by summation order only (~1e-15).
TOL_TWIN = 1e-10

C_TIMEOUT_S = 120


class Checks:
    """Counts checks, prints one line each, and the verdict at the end."""

    def __init__(self):
        self.count = 0
        self.failed = []

    def expect(self, ok, label, detail=""):
        self.count += 1
        if not ok:
            self.failed.append(label)
        print(f"{'ok  ' if ok else 'FAIL'} {label}" + (f": {detail}" if detail else ""),
              flush=True)
        return ok

    def verdict(self):
        if self.failed:
            print(f"test_twin: FAILED {len(self.failed)} of {self.count} checks "
                  f"({', '.join(self.failed[:5])}{', ...' if len(self.failed) > 5 else ''})")
            return 1
        print(f"test_twin: all {self.count} checks passed")
        return 0


def errors(ref, got, scale=None):
    """(max abs error, error / max |ref|, error / scale (default max |ref|)), in float64."""
    ref = np.asarray(ref, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    if ref.size == 0:
        return 0.0, 0.0, 0.0
    abs_err = float(np.abs(got - ref).max())
    ref_max = float(np.abs(ref).max())

    def ratio(scale):
        return abs_err / scale if scale > 0 else (0.0 if abs_err == 0 else math.inf)
    return abs_err, ratio(ref_max), ratio(ref_max if scale is None else scale)


def gradient_scales(grads):
    """{name: scale for errors()}: max |reference|, or the file's largest for zero gradients."""
    top = max(float(np.abs(a).max()) for a in grads.values() if a.size)
    return {name: (float(np.abs(a).max()) if a.size and np.abs(a).max() > ZERO_GRAD * top
                   else top) for name, a in grads.items()}


def worst_gradient_error(ref, got):
    scales = gradient_scales(ref)
    return max(errors(ref[name], got[name], scales[name])[2] for name in ref)


def compare(checks, label, ref, got, tol, scale=None):
    """One check: `got` matches `ref` within tol (see errors()); NaN anywhere fails."""
    if np.shape(ref) != np.shape(got):
        return checks.expect(False, label, f"shape {np.shape(got)}, expected {np.shape(ref)}")
    abs_err, rel, tested = errors(ref, got, scale)
    detail = f"max abs {abs_err:.2e}, rel {rel:.2e}"
    if tested != rel:
        detail += f" (zero gradient: {tested:.2e} of the file's largest)"
    ok = tested <= tol and not np.isnan(np.asarray(got, dtype=np.float64)).any()
    return checks.expect(ok, label, detail + f", tol {tol:.0e}")


def compare_tensor_sets(checks, label, ref, got, tol):
    """Compares gradient dicts with the same names, scaled by gradient_scales()."""
    scales = gradient_scales(ref)
    for name in ref:
        compare(checks, f"{label} {name}", ref[name], got[name], tol, scales[name])


# ---- configurations ---------------------------------------------------------------------

class Case:
    """A model configuration plus the input it is run on."""

    def __init__(self, name, arch, d_model, n_heads, n_layers, d_ff, norm, activation,
                 batch, n_tokens, ln_eps=1e-5, unbatched=False, query_scale=1.0, seed=0):
        self.name = name
        self.config = twin.Config(arch, d_model, n_heads, n_layers, d_ff, norm, activation,
                                  ln_eps)
        self.x_shape = (n_tokens, d_model) if unbatched else (batch, n_tokens, d_model)
        self.query_scale = query_scale
        self.seed = seed

    def model(self):
        model = twin.init_encoder(self.config, self.seed)
        if self.config.arch == "aaren" and self.query_scale != 1.0:
            with torch.no_grad():
                for layer in model.layers:
                    layer.attn.query.mul_(self.query_scale)
        return model

    def arrays(self):
        rng = np.random.default_rng(1000 + self.seed)
        return (rng.standard_normal(self.x_shape).astype("<f4"),
                rng.standard_normal(self.x_shape).astype("<f4"))


CASES = [
    Case("A", "aaren", 12, 4, 2, 20, "post", "gelu", batch=1, n_tokens=7, seed=1),
    Case("B", "aaren", 20, 5, 3, 24, "pre", "relu", batch=3, n_tokens=64, seed=2),
    Case("C", "aaren", 8, 1, 1, 16, "post", "relu", batch=2, n_tokens=1, seed=3),
    Case("D", "aaren", 12, 4, 1, 16, "pre", "gelu", batch=1, n_tokens=2, ln_eps=1e-3,
         unbatched=True, seed=4),
    # Sharp softmax: large scores make the running max change often along the scan.
    Case("E", "aaren", 16, 2, 2, 32, "post", "gelu", batch=2, n_tokens=64, query_scale=8.0,
         seed=5),
    Case("F", "transformer", 12, 4, 2, 20, "post", "gelu", batch=2, n_tokens=7, seed=6),
    Case("G", "transformer", 20, 5, 3, 24, "pre", "gelu", batch=1, n_tokens=64,
         unbatched=True, seed=7),
    Case("H", "transformer", 8, 1, 1, 16, "post", "relu", batch=3, n_tokens=1, seed=8),
    Case("I", "transformer", 12, 4, 2, 20, "pre", "relu", batch=3, n_tokens=2, ln_eps=1e-3,
         seed=9),
]


def describe(case):
    c = case.config
    return (f"[{case.name}: {c.arch} {c.norm}-norm {c.activation} d_model={c.d_model} "
            f"heads={c.n_heads} layers={c.n_layers} d_ff={c.d_ff} ln_eps={c.ln_eps:g} "
            f"X{list(case.x_shape)}" + (f" query*{case.query_scale:g}" if case.query_scale != 1
                                       else "") + "]")


def reference(model, x, g):
    """The twin's float64 results: (Y, {name: gradient}) by the naive path."""
    model64 = twin.with_dtype(model, torch.float64)
    return twin.encode(model64, x, "naive"), twin.grad(model64, x, g, "naive")


# ---- the twin on its own ----------------------------------------------------------------

def check_twin_paths(checks):
    """naive, scan and stream agree in float64, outputs and gradients, for both archs."""
    for case in (CASES[1], CASES[3], CASES[4], CASES[6], CASES[8]):
        model = twin.with_dtype(case.model(), torch.float64)
        x, g = (a.astype(np.float64) for a in case.arrays())
        ys = {mode: twin.encode(model, x, mode) for mode in twin.MODES}
        grads = {mode: twin.grad(model, x, g, mode) for mode in twin.MODES}
        for mode in ("scan", "stream"):
            compare(checks, f"twin case {case.name} encode {mode} vs naive", ys["naive"], ys[mode],
                    TOL_TWIN)
            worst = worst_gradient_error(grads["naive"], grads[mode])
            checks.expect(worst <= TOL_TWIN, f"twin case {case.name} grad {mode} vs naive",
                          f"worst {worst:.2e} over {len(grads['naive'])} tensors")


def check_twin_prefix_then_stream(checks):
    """A prefix run by the parallel path leaves the state that streaming continues from."""
    for case in (CASES[1], CASES[6]):
        model = twin.with_dtype(case.model(), torch.float64)
        x = torch.as_tensor(case.arrays()[0], dtype=torch.float64)
        split = x.shape[-2] // 3
        with torch.no_grad():
            whole = model(x, "naive")
            head, states = model(x[..., :split, :], "scan", return_state=True)
            tail = model(x[..., split:, :], "stream", states=states)
        compare(checks, f"twin case {case.name} scan prefix of {split} then stream",
                whole.numpy(), torch.cat((head, tail), dim=-2).numpy(), TOL_TWIN)


def check_twin_gradcheck(checks):
    """Autograd through every path equals central finite differences (float64)."""
    for arch in twin.ARCHS:
        for norm, activation, mode in (("post", "gelu", "scan"), ("pre", "relu", "stream"),
                                       ("pre", "gelu", "naive")):
            config = twin.Config(arch, 4, 2, 2, 6, norm, activation)
            model = twin.with_dtype(twin.init_encoder(config, 11), torch.float64)
            names = [name for name, _ in model.named_parameters()]
            params = tuple(p.detach().clone().requires_grad_(True) for p in model.parameters())
            x = torch.randn(2, 3, 4, dtype=torch.float64,
                            generator=torch.Generator().manual_seed(12)).requires_grad_(True)

            def forward(x, *p):
                return functional_call(model, dict(zip(names, p)), (x, mode))
            ok = torch.autograd.gradcheck(forward, (x,) + params, eps=1e-6, atol=1e-7,
                                          rtol=1e-5, raise_exception=False)
            checks.expect(ok, f"twin gradcheck {arch} {norm}-norm {activation} {mode}",
                          f"{sum(p.numel() for p in params) + x.numel()} inputs")


def check_twin_attention_kernels(checks):
    """math.md's kernels: scan = masked softmax even for scores far below 0 and a -inf score
    (the exp(-inf - -inf) guard), and the reverse recurrences = autograd."""
    gen = torch.Generator().manual_seed(21)
    s = 20.0 * torch.randn(3, 2, 33, dtype=torch.float64, generator=gen)
    v = torch.randn(3, 2, 33, 5, dtype=torch.float64, generator=gen)
    g = torch.randn(3, 2, 33, 5, dtype=torch.float64, generator=gen)

    def naive(s, v):
        n = s.shape[-1]
        return twin.causal_softmax_attention(s.unsqueeze(-2).expand(*s.shape[:-1], n, n), v)

    def scan(s, v):
        _, u, w = twin.prefix_scan(s, v)
        return w / u.unsqueeze(-1)

    for label, scores in (("wide", s), ("all near -1000", s - 1000.0)):
        compare(checks, f"twin scan vs softmax, scores {label}", naive(scores, v).numpy(),
                scan(scores, v).numpy(), TOL_TWIN)
    masked = s.clone()
    masked[..., 0] = float("-inf")
    compare(checks, "twin scan vs softmax, first score -inf (tokens 2..N)",
            naive(masked, v)[..., 1:, :].numpy(), scan(masked, v)[..., 1:, :].numpy(), TOL_TWIN)

    s_req, v_req = s.clone().requires_grad_(True), v.clone().requires_grad_(True)
    ds, dv = torch.autograd.grad((naive(s_req, v_req) * g).sum(), (s_req, v_req))
    ds_rec, dv_rec = twin.prefix_attention_backward(s, v, g)
    compare(checks, "twin math.md backward dL/ds vs autograd", ds.numpy(), ds_rec.numpy(),
            TOL_TWIN)
    compare(checks, "twin math.md backward dL/dv vs autograd", dv.numpy(), dv_rec.numpy(),
            TOL_TWIN)


def check_twin_files(checks, tmp):
    """safetensors round trip; malformed files raise ValueError naming the file."""
    model = CASES[0].model()
    path = os.path.join(tmp, "roundtrip.safetensors")
    twin.save_encoder(model, path)
    loaded = twin.load_encoder(path)
    same = loaded.config == model.config and all(
        torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                          loaded.state_dict().values()))
    checks.expect(same, "twin safetensors round trip")

    blob = open(path, "rb").read()
    header_len = int.from_bytes(blob[:8], "little")
    header = blob[8:8 + header_len].decode()
    first = re.search(r'"data_offsets":\[(\d+),(\d+)\]', header)
    overlap = header.replace(first.group(0), '"data_offsets":[%d,%d]' % (
        int(first.group(1)) + 4, int(first.group(2)) + 4), 1)
    bad_files = {
        "truncated": blob[:len(blob) - 4],
        "short": blob[:5],
        "F64 dtype": blob.replace(b'"F32"', b'"F64"', 1),
        "overlapping offsets": blob[:8] + overlap.encode() + blob[8 + header_len:],
        "bad JSON": blob[:8] + b"{" * header_len + blob[8 + header_len:],
    }
    for label, content in bad_files.items():
        bad = os.path.join(tmp, "bad.safetensors")
        with open(bad, "wb") as f:
            f.write(content)
        try:
            twin.load_encoder(bad)
            checks.expect(False, f"twin rejects {label} safetensors", "no error raised")
        except ValueError as e:
            checks.expect(bad in str(e), f"twin rejects {label} safetensors", str(e))
    npy = os.path.join(tmp, "x64.npy")
    np.save(npy, np.zeros((2, 3)))
    try:
        twin.load_npy(npy)
        checks.expect(False, "twin rejects float64 .npy", "no error raised")
    except ValueError as e:
        checks.expect(npy in str(e), "twin rejects float64 .npy", str(e))


def check_twin_cli(checks, tmp):
    """The twin's command line writes the same model and results as the module."""
    script = os.path.join(TWIN_DIR, "aaren_twin.py")
    case = CASES[5]
    c = case.config
    m, x_path, g_path = (os.path.join(tmp, n) for n in ("cli.safetensors", "x.npy", "g.npy"))
    y_path, d_path = os.path.join(tmp, "y.npy"), os.path.join(tmp, "d.safetensors")
    x, g = case.arrays()
    np.save(x_path, x)
    np.save(g_path, g)

    def run(*args):
        return subprocess.run([sys.executable, script, *map(str, args)], capture_output=True,
                              text=True, timeout=C_TIMEOUT_S)
    steps = [run("init", "--arch", c.arch, "--d-model", c.d_model, "--n-heads", c.n_heads,
                 "--n-layers", c.n_layers, "--d-ff", c.d_ff, "--norm", c.norm,
                 "--activation", c.activation, "--seed", case.seed, "--output", m),
             run("encode", "--model", m, "--input", x_path, "--output", y_path,
                 "--mode", "stream", "--dtype", "float64"),
             run("grad", "--model", m, "--input", x_path, "--grad-output", g_path,
                 "--output", d_path, "--dtype", "float64")]
    if not checks.expect(all(p.returncode == 0 for p in steps), "twin CLI init/encode/grad",
                         " | ".join(p.stderr.strip() for p in steps if p.returncode)):
        return
    y_ref, d_ref = reference(case.model(), x, g)
    compare(checks, "twin CLI encode vs module", y_ref, np.load(y_path), 1e-6)
    d_cli = twin.load_safetensors(d_path)[0]
    checks.expect(list(d_cli) == list(d_ref), "twin CLI grad names")
    worst = worst_gradient_error(d_ref, d_cli)
    checks.expect(worst <= 1e-6, "twin CLI grad vs module", f"worst {worst:.2e}")
    np.save(x_path, np.zeros((2, 3, c.d_model + 1), dtype="<f4"))
    bad = run("encode", "--model", m, "--input", x_path, "--output", y_path)
    checks.expect(bad.returncode == 2 and f"[2, 3, {c.d_model + 1}]" in bad.stderr,
                  "twin CLI rejects a wrong input shape", bad.stderr.strip())


def check_calibration(checks):
    """The twin's own float32 error stays below TOL_C / 4 (see the tolerance comment)."""
    worst_y = worst_g = 0.0
    for case in CASES:
        model = case.model()
        x, g = case.arrays()
        y_ref, d_ref = reference(model, x, g)
        worst_y = max(worst_y, errors(y_ref, twin.encode(model, x, "scan"))[2])
        worst_g = max(worst_g, worst_gradient_error(d_ref, twin.grad(model, x, g, "scan")))
    checks.expect(max(worst_y, worst_g) <= TOL_C / 4, "twin float32 vs float64 (calibration)",
                  f"worst Y {worst_y:.2e}, worst gradient {worst_g:.2e}, limit {TOL_C / 4:.0e}")


# ---- the C tool -------------------------------------------------------------------------

class CTool:
    def __init__(self, path):
        self.path = path

    def run(self, *args):
        try:
            return subprocess.run([self.path, *map(str, args)], capture_output=True, text=True,
                                  timeout=C_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(args, 124, "", f"timed out after {C_TIMEOUT_S} s")

    def encode(self, model, x, y, mode):
        return self.run("encode", "--model", model, "--input", x, "--output", y, "--mode", mode)

    def grad(self, model, x, g, d):
        return self.run("grad", "--model", model, "--input", x, "--grad-output", g,
                        "--output", d)


def failure(proc):
    return f"exit {proc.returncode}: {(proc.stderr or proc.stdout).strip()[:300]}"


def write_case(case, tmp, model=None):
    """Writes M, X, G for a case; returns paths and (model, X, G)."""
    model = model if model is not None else case.model()
    x, g = case.arrays()
    paths = {k: os.path.join(tmp, f"{case.name}_{k}") for k in
             ("M.safetensors", "X.npy", "G.npy", "Y.npy", "D.safetensors")}
    twin.save_encoder(model, paths["M.safetensors"])
    np.save(paths["X.npy"], x)
    np.save(paths["G.npy"], g)
    return paths, model, x, g


def load_y(checks, label, path, x):
    y = np.load(path)
    ok = checks.expect(y.dtype == np.dtype("<f4") and y.shape == x.shape, f"{label} Y format",
                       f"{y.dtype} {list(y.shape)}, expected float32 {list(x.shape)}")
    return y if ok else None


def check_c_case(checks, tool, case, tmp):
    paths, model, x, g = write_case(case, tmp)
    y_ref, d_ref = reference(model, x, g)
    label = f"case {case.name}"
    print(describe(case))
    for mode in ("scan", "stream", "naive"):
        proc = tool.encode(paths["M.safetensors"], paths["X.npy"], paths["Y.npy"], mode)
        if checks.expect(proc.returncode == 0, f"{label} encode --mode {mode} runs",
                         "" if proc.returncode == 0 else failure(proc)):
            y = load_y(checks, f"{label} encode {mode}", paths["Y.npy"], x)
            if y is not None:
                compare(checks, f"{label} encode {mode} Y", y_ref, y, TOL_C)
    proc = tool.grad(paths["M.safetensors"], paths["X.npy"], paths["G.npy"],
                     paths["D.safetensors"])
    if not checks.expect(proc.returncode == 0, f"{label} grad runs",
                         "" if proc.returncode == 0 else failure(proc)):
        return
    try:
        d = twin.load_safetensors(paths["D.safetensors"])[0]
    except ValueError as e:
        checks.expect(False, f"{label} grad file readable", str(e))
        return
    expected = {name: tuple(a.shape) for name, a in d_ref.items()}
    got = {name: tuple(a.shape) for name, a in d.items()}
    if not checks.expect(got == expected, f"{label} grad names and shapes = model's + input",
                         f"missing {sorted(set(expected) - set(got))}, extra "
                         f"{sorted(set(got) - set(expected))}, shapes differ for "
                         f"{sorted(k for k in expected if k in got and got[k] != expected[k])}"
                         if got != expected else f"{len(got)} tensors"):
        return
    compare_tensor_sets(checks, f"{label} grad", d_ref, d, TOL_C)


def check_c_detects_broken_model(checks, tool, tmp):
    """The comparison must fail when the C tool runs a model with one weight nudged by 0.01."""
    case = CASES[0]
    intact = case.model()
    broken = case.model()
    with torch.no_grad():
        broken.layers[0].attn.v_proj.weight[0, 0] += 0.01
    paths, _, x, g = write_case(case, tmp, broken)
    y_ref, d_ref = reference(intact, x, g)
    proc_y = tool.encode(paths["M.safetensors"], paths["X.npy"], paths["Y.npy"], "scan")
    proc_d = tool.grad(paths["M.safetensors"], paths["X.npy"], paths["G.npy"],
                       paths["D.safetensors"])
    if not checks.expect(proc_y.returncode == 0 and proc_d.returncode == 0,
                         "broken-model C runs", failure(proc_y if proc_y.returncode else proc_d)
                         if proc_y.returncode or proc_d.returncode else ""):
        return
    err_y = errors(y_ref, np.load(paths["Y.npy"]))[2]
    err_d = worst_gradient_error(d_ref, twin.load_safetensors(paths["D.safetensors"])[0])
    checks.expect(err_y > 10 * TOL_C, "comparison detects a perturbed weight in Y",
                  f"error {err_y:.2e} vs tol {TOL_C:.0e}")
    checks.expect(err_d > 10 * TOL_C, "comparison detects a perturbed weight in gradients",
                  f"worst error {err_d:.2e} vs tol {TOL_C:.0e}")


def check_c_errors(checks, tool, tmp):
    """Bad inputs: non-zero exit (not a crash) and a message naming the fault."""
    case = CASES[0]
    paths, _, x, g = write_case(case, tmp)
    d_model = case.config.d_model

    def rejected(proc):
        return 0 < proc.returncode < 128

    wrong = os.path.join(tmp, "wrong_width.npy")
    np.save(wrong, np.zeros((5, d_model + 1), dtype="<f4"))
    proc = tool.encode(paths["M.safetensors"], wrong, paths["Y.npy"], "scan")
    message = proc.stderr + proc.stdout
    numbers = set(re.findall(r"\d+", message))
    checks.expect(rejected(proc) and {str(d_model), str(d_model + 1)} <= numbers,
                  f"C rejects input width {d_model + 1} for d_model {d_model}",
                  f"exit {proc.returncode}: {message.strip()[:300]}")

    f64 = os.path.join(tmp, "float64_input.npy")
    np.save(f64, x.astype(np.float64))
    proc = tool.encode(paths["M.safetensors"], f64, paths["Y.npy"], "scan")
    message = proc.stderr + proc.stdout
    checks.expect(rejected(proc) and os.path.basename(f64) in message,
                  "C rejects a float64 .npy naming the file",
                  f"exit {proc.returncode}: {message.strip()[:300]}")

    short_g = os.path.join(tmp, "short_grad.npy")
    np.save(short_g, g[..., :-1, :])
    proc = tool.grad(paths["M.safetensors"], paths["X.npy"], short_g, paths["D.safetensors"])
    checks.expect(rejected(proc) and (proc.stderr + proc.stdout).strip() != "",
                  "C rejects a grad-output whose shape differs from the input",
                  f"exit {proc.returncode}: {(proc.stderr + proc.stdout).strip()[:300]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--aaren", required=True, help="path of the C command-line tool")
    parser.add_argument("--keep", action="store_true", help="keep the temporary files")
    args = parser.parse_args()
    torch.set_num_threads(min(4, torch.get_num_threads()))
    checks = Checks()
    tmp = tempfile.mkdtemp(prefix="aaren_test_twin_")
    try:
        print("== the twin on its own (float64)")
        check_twin_paths(checks)
        check_twin_prefix_then_stream(checks)
        check_twin_attention_kernels(checks)
        check_twin_gradcheck(checks)
        check_twin_files(checks, tmp)
        check_twin_cli(checks, tmp)
        check_calibration(checks)
        print(f"== the C tool {args.aaren} against the twin (tolerance {TOL_C:.0e})")
        if checks.expect(os.path.isfile(args.aaren) and os.access(args.aaren, os.X_OK),
                         "C tool exists", args.aaren):
            tool = CTool(os.path.abspath(args.aaren))
            for case in CASES:
                check_c_case(checks, tool, case, tmp)
            check_c_detects_broken_model(checks, tool, tmp)
            check_c_errors(checks, tool, tmp)
    finally:
        if args.keep:
            print(f"files kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return checks.verdict()


if __name__ == "__main__":
    sys.exit(main())
