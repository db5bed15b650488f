#!/usr/bin/env python3
"""PyTorch twin of the aaren encoder stack (docs: shared/docs/math.md and contract.md).

The twin is the reference the C library is tested against. It reads and writes the same
safetensors checkpoints and .npy arrays, and computes the same stack three ways:

  naive   the quadratic reference: a masked [N, N] softmax per head
  scan    Aaren's parallel prefix scan over (m, u, w), Hillis-Steele in log2(N) steps
  stream  one token at a time through `Encoder.step` (Aaren: constant (m, u, w) state per
          layer and head; Transformer: a KV cache)

Parameter names equal the checkpoint's tensor names, so `state_dict()` maps 1:1 to the file.

Command line (mirrors the C tool):
  aaren_twin.py encode --model M.safetensors --input X.npy --output Y.npy
                       [--mode naive|scan|stream] [--dtype float32|float64]
  aaren_twin.py grad   --model M.safetensors --input X.npy --grad-output G.npy
                       --output D.safetensors [--mode ...] [--dtype ...]
  aaren_twin.py init   --arch aaren|transformer --d-model D --n-heads H --n-layers L --d-ff F
                       [--norm post|pre] [--activation gelu|relu] [--ln-eps E] [--seed S]
                       --output M.safetensors
"""

import argparse
import copy
import json
import math
import struct
import sys
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from atomic_save import atomic_open

ARCHS = ("aaren", "transformer")
NORMS = ("post", "pre")
ACTIVATIONS = ("gelu", "relu")
MODES = ("naive", "scan", "stream")
DTYPES = {"float32": torch.float32, "float64": torch.float64}


# ---- safetensors -------------------------------------------------------------------------

def load_safetensors(path):
    """Returns ({name: float32 ndarray}, {metadata key: value}); ValueError names the file."""
    try:
        with open(path, "rb") as f:
            blob = f.read()
    except OSError as e:
        raise ValueError(f"{path}: cannot read ({e.strerror})") from None

    def fault(msg):
        return ValueError(f"{path}: {msg}")

    if len(blob) < 8:
        raise fault(f"truncated file: {len(blob)} bytes, no 8-byte header length")
    (header_len,) = struct.unpack("<Q", blob[:8])
    if header_len > len(blob) - 8:
        raise fault(f"header length {header_len} runs past the end of the {len(blob)}-byte file")
    try:
        header = json.loads(blob[8:8 + header_len].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise fault(f"header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise fault("header is not a JSON object")

    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise fault("__metadata__ must map strings to strings")

    data_start, data_len = 8 + header_len, len(blob) - 8 - header_len
    tensors, spans = {}, []
    for name, info in header.items():
        if not isinstance(info, dict):
            raise fault(f"tensor {name!r}: entry is not an object")
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if dtype != "F32":
            raise fault(f"tensor {name!r} has dtype {dtype!r}; only F32 is accepted")
        if not isinstance(shape, list) or not all(
                isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
            raise fault(f"tensor {name!r}: bad shape {shape!r}")
        if (not isinstance(offsets, list) or len(offsets) != 2
                or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)):
            raise fault(f"tensor {name!r}: bad data_offsets {offsets!r}")
        begin, end = offsets
        if not 0 <= begin <= end <= data_len:
            raise fault(f"tensor {name!r}: data_offsets [{begin}, {end}] outside the "
                        f"{data_len}-byte data section")
        numel = math.prod(shape)
        if end - begin != 4 * numel:
            raise fault(f"tensor {name!r}: shape {shape} needs {4 * numel} bytes, "
                        f"data_offsets give {end - begin}")
        spans.append((begin, end, name))
        tensors[name] = np.frombuffer(blob, dtype="<f4", count=numel,
                                      offset=data_start + begin).reshape(shape).copy()
    spans.sort()
    for (_, end0, name0), (begin1, _, name1) in zip(spans, spans[1:]):
        if begin1 < end0:
            raise fault(f"tensors {name0!r} and {name1!r} overlap")
    return tensors, metadata


def save_safetensors(path, tensors, metadata=None):
    """Writes {name: array} as F32 in the order given; metadata values become strings."""
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, value in tensors.items():
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        value = np.asarray(value)
        if value.dtype.kind != "f":
            raise ValueError(f"{path}: tensor {name!r} has dtype {value.dtype}, not floating point")
        data = np.ascontiguousarray(value, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(value.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with atomic_open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for chunk in chunks:
            f.write(chunk)


# ---- .npy --------------------------------------------------------------------------------

def load_npy(path):
    """Loads a little-endian float32 C-order .npy array; ValueError names the file."""
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: not a readable .npy file ({e})") from None
    if not isinstance(arr, np.ndarray):
        raise ValueError(f"{path}: not a single .npy array")
    if arr.dtype != np.dtype("<f4"):
        raise ValueError(f"{path}: dtype {arr.dtype.str!r}; only '<f4' (float32) is accepted")
    if arr.ndim > 1 and not arr.flags.c_contiguous:
        raise ValueError(f"{path}: Fortran-order array; only C order is accepted")
    return arr


def shape_str(shape):
    return "[" + ", ".join(str(d) for d in shape) + "]"


def check_input_shape(x_shape, d_model, path):
    if len(x_shape) not in (2, 3) or x_shape[-1] != d_model:
        raise ValueError(f"{path}: input shape {shape_str(x_shape)} does not fit the model: "
                         f"expected [N, {d_model}] or [B, N, {d_model}]")


# ---- configuration -----------------------------------------------------------------------

@dataclass
class Config:
    arch: str
    d_model: int
    n_heads: int
    n_layers: int
    d_ff: int
    norm: str = "post"
    activation: str = "gelu"
    ln_eps: float = 1e-5

    def __post_init__(self):
        for key, allowed in (("arch", ARCHS), ("norm", NORMS), ("activation", ACTIVATIONS)):
            if getattr(self, key) not in allowed:
                raise ValueError(f"{key} must be one of {', '.join(allowed)}, "
                                 f"not {getattr(self, key)!r}")
        for key in ("d_model", "n_heads", "n_layers", "d_ff"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be positive, not {getattr(self, key)}")
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model {self.d_model} is not divisible by n_heads {self.n_heads}")
        if not self.ln_eps > 0:
            raise ValueError(f"ln_eps must be positive, not {self.ln_eps}")

    @property
    def d_head(self):
        return self.d_model // self.n_heads

    @classmethod
    def from_metadata(cls, metadata, source="checkpoint"):
        """Builds a Config from the `aaren.*` metadata; missing optional keys take defaults."""
        def get(key, parse, required):
            text = metadata.get("aaren." + key)
            if text is None:
                if required:
                    raise ValueError(f"{source}: metadata lacks 'aaren.{key}'")
                return None
            try:
                return parse(text)
            except ValueError:
                raise ValueError(f"{source}: metadata 'aaren.{key}' = {text!r} "
                                 f"is not a valid {parse.__name__}") from None

        values = {"arch": get("arch", str, True)}
        for key in ("d_model", "n_heads", "n_layers", "d_ff"):
            values[key] = get(key, int, True)
        for key, parse in (("norm", str), ("activation", str), ("ln_eps", float)):
            value = get(key, parse, False)
            if value is not None:
                values[key] = value
        try:
            return cls(**values)
        except ValueError as e:
            raise ValueError(f"{source}: {e}") from None

    def to_metadata(self):
        return {"aaren." + key: str(getattr(self, key)) for key in
                ("arch", "d_model", "n_heads", "n_layers", "d_ff", "norm", "activation",
                 "ln_eps")}


# ---- attention kernels -------------------------------------------------------------------

def causal_softmax_attention(scores, v):
    """scores [..., N, N] (query t, key j), v [..., N, d_h] -> [..., N, d_h], keys j <= t."""
    n = scores.shape[-1]
    future = torch.ones(n, n, dtype=torch.bool, device=scores.device).triu(1)
    return torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1) @ v


def _rescale(m, m_new):
    """exp(m - m_new) with exp(-inf - -inf) read as 0: an empty state contributes nothing.
    m_new >= m, so m_new = -inf implies m = -inf; the guard keeps gradients NaN-free too."""
    safe = torch.where(torch.isneginf(m_new), torch.zeros_like(m_new), m_new)
    return torch.exp(m - safe)


def combine(a, b):
    """The associative operator of math.md on states (m, u, w): m, u [...], w [..., d_h].
    `a` covers the earlier tokens. Identity: (-inf, 0, 0)."""
    m_a, u_a, w_a = a
    m_b, u_b, w_b = b
    m = torch.maximum(m_a, m_b)
    c_a, c_b = _rescale(m_a, m), _rescale(m_b, m)
    return m, u_a * c_a + u_b * c_b, w_a * c_a.unsqueeze(-1) + w_b * c_b.unsqueeze(-1)


def identity_state(s, v):
    """(-inf, 0, 0) shaped like one token's scores s [...] and values v [..., d_h]."""
    return (torch.full_like(s, float("-inf")), torch.zeros_like(s), torch.zeros_like(v))


def prefix_scan(s, v):
    """Inclusive Hillis-Steele scan over tokens of the leaves (s_t, 1, v_t).
    s [..., N], v [..., N, d_h] -> (m [..., N], u [..., N], w [..., N, d_h])."""
    m, u, w = s, torch.ones_like(s), v
    n, offset = s.shape[-1], 1
    while offset < n:
        head = identity_state(s[..., :offset], v[..., :offset, :])
        earlier = (torch.cat((head[0], m[..., :-offset]), dim=-1),
                   torch.cat((head[1], u[..., :-offset]), dim=-1),
                   torch.cat((head[2], w[..., :-offset, :]), dim=-2))
        m, u, w = combine(earlier, (m, u, w))
        offset *= 2
    return m, u, w


def reduce_state(s, v):
    """The state after all N tokens, computed directly: (max s, sum e^(s-m), sum e^(s-m) v)."""
    m = s.max(dim=-1).values
    e = torch.exp(s - m.unsqueeze(-1))
    return m, e.sum(dim=-1), (e.unsqueeze(-1) * v).sum(dim=-2)


def prefix_attention_backward(s, v, g):
    """math.md's backward of o_t = softmax_{j<=t}(s_j) . v_j, by its reverse recurrences.
    s [..., N], v and g = dL/do [..., N, d_h] -> (dL/ds [..., N], dL/dv [..., N, d_h]).
    A readable reference for checking backward passes, not used by autograd."""
    m, u, w = prefix_scan(s, v)
    o = w / u.unsqueeze(-1)
    r = torch.zeros_like(v[..., 0, :])
    q = torch.zeros_like(s[..., 0])
    ds, dv = torch.empty_like(s), torch.empty_like(v)
    for t in reversed(range(s.shape[-1])):
        if t + 1 < s.shape[-1]:
            decay = torch.exp(m[..., t] - m[..., t + 1])
            r, q = r * decay.unsqueeze(-1), q * decay
        r = r + g[..., t, :] / u[..., t].unsqueeze(-1)
        q = q + (g[..., t, :] * o[..., t, :]).sum(-1) / u[..., t]
        e = torch.exp(s[..., t] - m[..., t])
        dv[..., t, :] = e.unsqueeze(-1) * r
        ds[..., t] = e * ((v[..., t, :] * r).sum(-1) - q)
    return ds, dv


# ---- modules -----------------------------------------------------------------------------

def _split_heads(x, n_heads):
    """[..., N, D] -> [..., H, N, D/H]"""
    return x.unflatten(-1, (n_heads, -1)).transpose(-3, -2)


def _merge_heads(x):
    """[..., H, N, d_h] -> [..., N, H*d_h]"""
    return x.transpose(-3, -2).flatten(-2)


class _Projections(nn.Module):
    """q/k/v/out projections shared by both attention kinds."""

    def __init__(self, d_model, n_heads):
        super().__init__()
        self.n_heads = n_heads
        self.scale = 1.0 / math.sqrt(d_model // n_heads)
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)


class AarenAttention(_Projections):
    """One learned query per layer; the output at t attends over tokens 1..t.
    forward(x [B, N, D], mode) and step(x_t [B, D], state) both return (out, state) where
    state = (m [B, H], u [B, H], w [B, H, d_h]) after the last token seen."""

    def __init__(self, d_model, n_heads):
        super().__init__(d_model, n_heads)
        self.query = nn.Parameter(torch.zeros(d_model))

    def _keys_values(self, x):
        """x [..., N, D] -> scores [..., H, N], values [..., H, N, d_h]"""
        q = self.q_proj(self.query).unflatten(-1, (self.n_heads, -1))      # [H, d_h]
        k = _split_heads(self.k_proj(x), self.n_heads)
        s = (k * q.unsqueeze(-2)).sum(-1) * self.scale
        return s, _split_heads(self.v_proj(x), self.n_heads)

    def forward(self, x, mode="scan"):
        s, v = self._keys_values(x)
        if mode == "naive":
            n = s.shape[-1]
            o = causal_softmax_attention(s.unsqueeze(-2).expand(*s.shape[:-1], n, n), v)
            state = reduce_state(s, v)
        elif mode == "scan":
            m, u, w = prefix_scan(s, v)
            o = w / u.unsqueeze(-1)
            state = (m[..., -1], u[..., -1], w[..., -1, :])
        else:
            raise ValueError(f"attention mode must be naive or scan, not {mode!r}")
        return self.out_proj(_merge_heads(o)), state

    def step(self, x_t, state=None):
        s, v = self._keys_values(x_t.unsqueeze(-2))
        s, v = s.squeeze(-1), v.squeeze(-2)                                 # [B, H], [B, H, d_h]
        if state is None:
            state = identity_state(s, v)
        m, u, w = combine(state, (s, torch.ones_like(s), v))
        o = w / u.unsqueeze(-1)
        return self.out_proj(o.flatten(-2)), (m, u, w)


class TransformerAttention(_Projections):
    """Causal multi-head self-attention. The state is the KV cache (k, v) [B, H, t, d_h]."""

    def _qkv(self, x):
        return tuple(_split_heads(proj(x), self.n_heads)
                     for proj in (self.q_proj, self.k_proj, self.v_proj))

    def forward(self, x, mode="scan"):
        if mode not in ("naive", "scan"):
            raise ValueError(f"attention mode must be naive or scan, not {mode!r}")
        q, k, v = self._qkv(x)
        o = causal_softmax_attention(q @ k.transpose(-1, -2) * self.scale, v)
        return self.out_proj(_merge_heads(o)), (k, v)

    def step(self, x_t, state=None):
        q, k, v = self._qkv(x_t.unsqueeze(-2))                              # [B, H, 1, d_h]
        if state is not None:
            k, v = torch.cat((state[0], k), dim=-2), torch.cat((state[1], v), dim=-2)
        p = torch.softmax(q @ k.transpose(-1, -2) * self.scale, dim=-1)     # [B, H, 1, t]
        return self.out_proj((p @ v).squeeze(-2).flatten(-2)), (k, v)


class FeedForward(nn.Module):
    def __init__(self, d_model, d_ff, activation):
        super().__init__()
        self.fc1 = nn.Linear(d_model, d_ff)
        self.fc2 = nn.Linear(d_ff, d_model)
        self.act = F.gelu if activation == "gelu" else F.relu               # gelu: exact erf

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """Residual + LayerNorm + feed-forward around attention, post- or pre-norm (contract.md)."""

    def __init__(self, config, dropout=0.0):
        super().__init__()
        attention = AarenAttention if config.arch == "aaren" else TransformerAttention
        self.attn = attention(config.d_model, config.n_heads)
        self.norm1 = nn.LayerNorm(config.d_model, eps=config.ln_eps)
        self.norm2 = nn.LayerNorm(config.d_model, eps=config.ln_eps)
        self.ffn = FeedForward(config.d_model, config.d_ff, config.activation)
        self.attn_drop = nn.Dropout(dropout)
        self.ffn_drop = nn.Dropout(dropout)
        self.pre_norm = config.norm == "pre"

    def _wrap(self, x, attend):
        """attend(z) -> (attention output, state); returns (block output, state)."""
        if self.pre_norm:
            a, state = attend(self.norm1(x))
            h = x + self.attn_drop(a)
            return h + self.ffn_drop(self.ffn(self.norm2(h))), state
        a, state = attend(x)
        h = self.norm1(x + self.attn_drop(a))
        return self.norm2(h + self.ffn_drop(self.ffn(h))), state

    def forward(self, x, mode="scan"):
        return self._wrap(x, lambda z: self.attn(z, mode))

    def step(self, x_t, state=None):
        return self._wrap(x_t, lambda z: self.attn.step(z, state))


class Encoder(nn.Module):
    """The encoder stack. Inputs are [N, D] or [B, N, D] (step: [D] or [B, D])."""

    def __init__(self, config, dropout=0.0):
        super().__init__()
        self.config = config
        self.layers = nn.ModuleList(Block(config, dropout) for _ in range(config.n_layers))
        self.final_norm = (nn.LayerNorm(config.d_model, eps=config.ln_eps)
                           if config.norm == "pre" else None)

    def _finish(self, y):
        return self.final_norm(y) if self.final_norm is not None else y

    def forward(self, x, mode="scan", states=None, return_state=False):
        """mode naive|scan runs the whole sequence at once; stream steps token by token and
        may continue from `states` (per layer, as returned with return_state=True)."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        unbatched = x.dim() == 2
        if unbatched:
            x = x.unsqueeze(0)
        if mode == "stream":
            outputs = []
            for t in range(x.shape[-2]):
                y_t, states = self.step(x[..., t, :], states)
                outputs.append(y_t)
            y = torch.stack(outputs, dim=-2)
        else:
            if states is not None:
                raise ValueError("only mode 'stream' continues from a given state")
            states = []
            for layer in self.layers:
                x, state = layer(x, mode)
                states.append(state)
            y = self._finish(x)
        if unbatched:
            y = y.squeeze(0)
        return (y, states) if return_state else y

    def step(self, x_t, states=None):
        """One token x_t [B, D] through the stack; returns (y_t, new per-layer states)."""
        states = states if states is not None else [None] * len(self.layers)
        new_states = []
        for layer, state in zip(self.layers, states):
            x_t, state = layer.step(x_t, state)
            new_states.append(state)
        return self._finish(x_t), new_states


# ---- building, saving, evaluating --------------------------------------------------------

def init_encoder(config, seed=0):
    """A random float32 Encoder: Linear weights ~ U(+-1/sqrt(fan_in)), biases likewise (so they
    are non-zero and tests see them), LayerNorm weight 1 + 0.1 N(0,1), bias 0.1 N(0,1),
    query ~ N(0,1)."""
    gen = torch.Generator().manual_seed(seed)
    model = Encoder(config)
    with torch.no_grad():
        for name, p in model.named_parameters():
            owner = model.get_submodule(name.rpartition(".")[0])
            if isinstance(owner, nn.LayerNorm):
                noise = 0.1 * torch.randn(p.shape, generator=gen)
                p.copy_(noise + 1.0 if name.endswith("weight") else noise)
            elif isinstance(owner, nn.Linear):
                bound = 1.0 / math.sqrt(owner.in_features)
                p.copy_((2.0 * torch.rand(p.shape, generator=gen) - 1.0) * bound)
            else:
                p.copy_(torch.randn(p.shape, generator=gen))
    return model


def save_encoder(model, path):
    save_safetensors(path, model.state_dict(), model.config.to_metadata())


def encoder_from_tensors(config, tensors, source="checkpoint"):
    """Encoder holding `tensors`; names not belonging to the stack (task tensors) are ignored."""
    model = Encoder(config)
    expected = model.state_dict()
    missing = [name for name in expected if name not in tensors]
    if missing:
        raise ValueError(f"{source}: missing tensors {', '.join(missing)}")
    for name, ref in expected.items():
        if tuple(tensors[name].shape) != tuple(ref.shape):
            raise ValueError(f"{source}: tensor {name!r} has shape "
                             f"{shape_str(tensors[name].shape)}, expected {shape_str(ref.shape)}")
    model.load_state_dict({name: torch.as_tensor(tensors[name]) for name in expected})
    return model


def load_encoder(path):
    tensors, metadata = load_safetensors(path)
    return encoder_from_tensors(Config.from_metadata(metadata, path), tensors, path)


def with_dtype(model, dtype):
    """A copy of the model in `dtype` (e.g. torch.float64 for reference results)."""
    return copy.deepcopy(model).to(dtype)


def _param_dtype(model):
    return next(model.parameters()).dtype


def encode(model, x, mode="scan"):
    """Forward pass in the model's dtype; x [N, D] or [B, N, D] array -> ndarray."""
    x = torch.as_tensor(np.asarray(x)).to(_param_dtype(model))
    with torch.no_grad():
        return model(x, mode).numpy()


def grad(model, x, g, mode="scan"):
    """Gradient of sum(Y * G) with respect to every parameter and the input (as 'input'),
    in the model's dtype: {name: ndarray} in checkpoint order, then 'input'."""
    dtype = _param_dtype(model)
    x = torch.as_tensor(np.asarray(x)).to(dtype).requires_grad_(True)
    g = torch.as_tensor(np.asarray(g)).to(dtype)
    params = dict(model.named_parameters())
    loss = (model(x, mode) * g).sum()
    grads = torch.autograd.grad(loss, list(params.values()) + [x], allow_unused=True)
    out = {name: (torch.zeros_like(p) if dp is None else dp).numpy()
           for (name, p), dp in zip(params.items(), grads[:-1])}
    out["input"] = grads[-1].numpy()
    return out


# ---- command line ------------------------------------------------------------------------

def _load_model_and_input(args):
    model = load_encoder(args.model)
    x = load_npy(args.input)
    check_input_shape(x.shape, model.config.d_model, args.input)
    return with_dtype(model, DTYPES[args.dtype]), x


def _cmd_encode(args):
    model, x = _load_model_and_input(args)
    with atomic_open(args.output, "wb") as f:
        np.save(f, encode(model, x, args.mode).astype("<f4"))


def _cmd_grad(args):
    model, x = _load_model_and_input(args)
    g = load_npy(args.grad_output)
    if g.shape != x.shape:
        raise ValueError(f"{args.grad_output}: grad-output shape {shape_str(g.shape)} differs "
                         f"from input shape {shape_str(x.shape)}")
    save_safetensors(args.output, grad(model, x, g, args.mode))


def _cmd_init(args):
    config = Config(args.arch, args.d_model, args.n_heads, args.n_layers, args.d_ff,
                    args.norm, args.activation, args.ln_eps)
    save_encoder(init_encoder(config, args.seed), args.output)


def _parser():
    parser = argparse.ArgumentParser(prog="aaren_twin.py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    enc = sub.add_parser("encode", help="forward pass of the stack")
    grd = sub.add_parser("grad", help="gradient of sum(Y * G) w.r.t. parameters and input")
    for p in (enc, grd):
        p.add_argument("--model", required=True)
        p.add_argument("--input", required=True)
        p.add_argument("--output", required=True)
        p.add_argument("--mode", choices=MODES, default="scan")
        p.add_argument("--dtype", choices=tuple(DTYPES), default="float32")
    grd.add_argument("--grad-output", required=True)
    ini = sub.add_parser("init", help="write a random model")
    ini.add_argument("--arch", choices=ARCHS, default="aaren")
    for name in ("--d-model", "--n-heads", "--n-layers", "--d-ff"):
        ini.add_argument(name, type=int, required=True)
    ini.add_argument("--norm", choices=NORMS, default="post")
    ini.add_argument("--activation", choices=ACTIVATIONS, default="gelu")
    ini.add_argument("--ln-eps", type=float, default=1e-5)
    ini.add_argument("--seed", type=int, default=0)
    ini.add_argument("--output", required=True)
    enc.set_defaults(run=_cmd_encode)
    grd.set_defaults(run=_cmd_grad)
    ini.set_defaults(run=_cmd_init)
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        args.run(args)
    except ValueError as e:
        print(f"aaren_twin: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
