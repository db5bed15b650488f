"""PyTorch interop: the library's encoder stack (AarenEncoder) and one Aaren attention layer
(AarenAttention) as torch.nn.Modules whose forward and backward are the C kernels (a
torch.autograd.Function), so a PyTorch model can hold them and train them with any torch
optimizer.

    import torch, aaren.torch as at
    enc = at.AarenEncoder(d_model=64, n_heads=4, n_layers=2, d_ff=128, seed=1)
    y = enc(torch.randn(8, 256, 64))          # [B, N, d_model] -> same shape
    y.square().mean().backward()              # gradients in enc.params.grad

float32 tensors run the float32 library; float64 tensors (AarenEncoder(..., dtype=torch.float64)
or enc.double()) run its float64 build, which torch.autograd.gradcheck checks. Tensors live on
the CPU. Dropout is not applied (the library's training dropout is not wired here)."""
import ctypes

import numpy as np
import torch

from ._lib import AarenError, Closable, ErrBuf, P, declare
from .core import PATHS, Model, make_config

_E = [ctypes.c_char_p, ctypes.c_size_t]
_dbl_p = ctypes.POINTER(ctypes.c_double)
_flt_p = ctypes.POINTER(ctypes.c_float)
_params32 = declare("aaren_model_params", _flt_p, [P])


def _table(prefix, ptr_t, f64, encoder):
    """The C functions of one kind of engine, called the same way whatever the kind."""
    sfx = "_f64" if f64 else ""
    d = lambda name, res, args: declare(prefix + name + sfx, res, args)  # noqa: E731
    t = {"free": d("_free", None, [P]), "params": d("_params", ptr_t, [P]), "grads": d("_grads", ptr_t, [P]),
         "zero": d("_zero_grad", None, [P]),
         "forward": d("_forward", ctypes.c_int, [P, ptr_t, ptr_t, ctypes.c_int, ctypes.c_int]
                      + ([ctypes.c_int] if encoder else []) + _E),
         "backward": d("_backward", ctypes.c_int, [P, ptr_t, ptr_t] + _E)}
    if encoder:
        t["new"] = d("_new", P, [P] + _E)
        reserve = d("_reserve", ctypes.c_int, [P, ctypes.c_int, ctypes.c_int, ctypes.c_int] + _E)
        t["reserve"] = lambda h, B, N, *e: reserve(h, B, N, 1, *e)
        fwd = t["forward"]
        t["forward"] = lambda h, y, x, B, N, *e: fwd(h, y, x, B, N, PATHS["scan"], *e)
    else:
        t["new"] = d("_new", P, [ctypes.c_int, ctypes.c_int] + _E)
        t["reserve"] = d("_reserve", ctypes.c_int, [P, ctypes.c_int, ctypes.c_int] + _E)
    return t


_TABLES = {}


def _functions(kind, dtype):
    key = (kind, dtype)
    if key not in _TABLES:
        f64 = dtype == torch.float64
        ptr_t = _dbl_p if f64 else _flt_p
        _TABLES[key] = (_table("aaren_model" if kind == "encoder" else "aaren_attention_layer", ptr_t, f64,
                               kind == "encoder"), ptr_t)
    return _TABLES[key]


class _Engine(Closable):
    """One C object of one precision behind a module (the encoder stack, or one attention
    layer): parameters copied in from the module before each forward; the activations of its
    last forward kept for backward."""

    def __init__(self, kind, new_args, dtype):
        self.dtype = dtype
        self.f, self.ptr_t = _functions(kind, dtype)
        e = ErrBuf()
        self.h = self.f["new"](*new_args, *e.args)
        if not self.h:
            e.raise_()
        self.reserved = (0, 0)
        self.last = None          # the token of the forward whose activations the object holds

    def close(self):
        if self.h:
            self.f["free"](self.h)
            self.h = None

    def ptr(self, t):
        return ctypes.cast(t.data_ptr(), self.ptr_t)

    def run_forward(self, x, params, n_params, token):
        B, N, _ = x.shape
        if B > self.reserved[0] or N > self.reserved[1]:
            b, n = max(B, self.reserved[0]), max(N, self.reserved[1])
            e = ErrBuf()
            if self.f["reserve"](self.h, b, n, *e.args):
                e.raise_()
            self.reserved = (b, n)
        ctypes.memmove(self.f["params"](self.h), params.data_ptr(), n_params * params.element_size())
        y = torch.empty_like(x)
        e = ErrBuf()
        if self.f["forward"](self.h, self.ptr(y), self.ptr(x), B, N, *e.args):
            e.raise_()
        self.last = token
        return y

    def run_backward(self, gy, n_params):
        self.f["zero"](self.h)
        dx = torch.empty_like(gy)
        e = ErrBuf()
        if self.f["backward"](self.h, self.ptr(dx), self.ptr(gy), *e.args):
            e.raise_()
        g = np.ctypeslib.as_array(self.f["grads"](self.h), shape=(n_params,))
        return dx, torch.from_numpy(g.copy())


class EncoderFunction(torch.autograd.Function):
    """y = encoder(x; params) through the C library: forward(x [B, N, D], params [n_params],
    module) -> y [B, N, D]; backward gives dL/dx and dL/dparams from the library's backward.
    module is an AarenEncoder or an AarenAttention (it provides the engine)."""

    @staticmethod
    def forward(ctx, x, params, module):
        eng = module._engine(x.dtype)
        module._tokens += 1
        token = module._tokens
        y = eng.run_forward(x, params, module.n_params, token)
        ctx.module, ctx.token = module, token
        ctx.save_for_backward(x, params)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, params = ctx.saved_tensors
        module = ctx.module
        eng = module._engine(x.dtype)
        if eng.last != ctx.token:   # another forward came between: recompute this one's activations
            eng.run_forward(x, params, module.n_params, ctx.token)
        dx, dp = eng.run_backward(gy.contiguous(), module.n_params)
        eng.last = None
        return dx, dp.to(params.dtype), None


class _FlatModule(torch.nn.Module):
    """A module whose parameters are one flat nn.Parameter `params` in the library's layout,
    with named views (names as in the library's checkpoints and the PyTorch twin)."""

    def tensor(self, name):
        """The view of params holding the named tensor (e.g. "layers.0.attn.q_proj.weight")."""
        if name not in self._layout:
            raise KeyError(f"no tensor {name!r}; the encoder's tensors: {', '.join(self._layout)}")
        off, shape = self._layout[name]
        return self.params[off:off + int(np.prod(shape))].view(*shape)

    def named_tensors(self):
        """{name: view of params}, in checkpoint order."""
        return {k: self.tensor(k) for k in self._layout}

    def named_grads(self):
        """{name: view of params.grad} after a backward (None before one)."""
        if self.params.grad is None:
            return None
        return {k: self.params.grad[o:o + int(np.prod(sh))].view(*sh) for k, (o, sh) in self._layout.items()}

    def load_named(self, tensors):
        """Copies tensors {name: tensor} (e.g. the PyTorch twin's state_dict) into params."""
        with torch.no_grad():
            for k, v in tensors.items():
                t = self.tensor(k)
                if tuple(v.shape) != tuple(t.shape):
                    raise ValueError(f"{k}: shape {tuple(v.shape)}; the encoder's is {tuple(t.shape)}")
                t.copy_(v)
        return self

    def _forward(self, x):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch.Tensor; got {type(x).__name__}")
        if x.device.type != "cpu":
            raise ValueError(f"x is on {x.device}; the library computes on the CPU")
        if x.dtype != self.params.dtype:
            raise TypeError(f"x is {x.dtype} but the parameters are {self.params.dtype} (use .double() or .float())")
        D = self.d_model
        if x.dim() not in (2, 3) or x.shape[-1] != D or 0 in x.shape:
            raise ValueError(f"x must be [B, N, {D}] or [N, {D}]; got {tuple(x.shape)}")
        x3 = (x[None] if x.dim() == 2 else x).contiguous()
        y = EncoderFunction.apply(x3, self.params, self)
        return y[0] if x.dim() == 2 else y


class AarenEncoder(_FlatModule):
    """The library's encoder stack (Aaren or Transformer) as a torch Module.

    Parameters are one flat nn.Parameter `params` in the library's layout; tensor(name) and
    named_tensors() give views of each named tensor (names as in the safetensors checkpoints
    and the PyTorch twin's state_dict). Inputs [B, N, d_model] or [N, d_model] on the CPU."""

    def __init__(self, arch="aaren", d_model=128, n_heads=4, n_layers=3, d_ff=512, norm="post", activation="gelu",
                 ln_eps=1e-5, seed=0, dtype=torch.float32, _model=None):
        super().__init__()
        m = _model if _model is not None else Model.init(arch, d_model, n_heads, n_layers, d_ff, norm, activation,
                                                         ln_eps, seed)
        self.config = m.config
        self.d_model = self.config["d_model"]
        self._cfg = make_config(**self.config)
        tensors = m.parameters()
        base = ctypes.cast(_params32(m._handle()), ctypes.c_void_p).value
        self._layout = {k: ((v.ctypes.data - base) // 4, v.shape) for k, v in tensors.items()}
        self.n_params = m.n_params
        flat = np.ctypeslib.as_array(_params32(m._handle()), shape=(self.n_params,)).copy()
        if _model is None:
            m.close()
        self.params = torch.nn.Parameter(torch.from_numpy(flat).to(dtype))
        self._engines = {}
        self._tokens = 0

    @classmethod
    def from_model(cls, model, dtype=torch.float32):
        """A module with the weights of an aaren.Model (copied)."""
        return cls(dtype=dtype, _model=model)

    @classmethod
    def load(cls, path, dtype=torch.float32):
        """A module with the encoder of a safetensors checkpoint."""
        with Model.load(path) as m:
            return cls(dtype=dtype, _model=m)

    def to_model(self):
        """An aaren.Model holding the module's current weights (for streaming, saving)."""
        m = Model.init(**self.config)
        flat = self.params.detach().to(torch.float32).contiguous()
        ctypes.memmove(_params32(m._handle()), flat.data_ptr(), self.n_params * 4)
        return m

    def save(self, path):
        """Writes the weights as the library's safetensors checkpoint."""
        with self.to_model() as m:
            m.save(path)

    def _engine(self, dtype):
        if dtype not in (torch.float32, torch.float64):
            raise TypeError(f"AarenEncoder computes in float32 or float64; got {dtype}")
        if dtype not in self._engines:
            self._engines[dtype] = _Engine("encoder", (ctypes.byref(self._cfg),), dtype)
        return self._engines[dtype]

    def forward(self, x):
        """y = encoder(x): x [B, N, d_model] or [N, d_model] (float32 or float64, CPU, the
        dtype of params); y the same shape."""
        return self._forward(x)

    def extra_repr(self):
        c = self.config
        return (f"arch={c['arch']}, d_model={c['d_model']}, n_heads={c['n_heads']}, n_layers={c['n_layers']}, "
                f"d_ff={c['d_ff']}, norm={c['norm']}, params={self.n_params}")


class AarenAttention(_FlatModule):
    """One multi-head Aaren attention layer (aaren_attention.h): out [B, N, D] at t attends
    over the tokens 1..t of x with one learned query; forward and backward are the library's
    (the parallel prefix scan and its backward). Parameters: query, q_proj, k_proj, v_proj,
    out_proj (the names of the twin's AarenAttention state_dict), initialised as the library
    initialises an encoder's attention. Inputs [B, N, d_model] or [N, d_model] on the CPU."""

    def __init__(self, d_model=128, n_heads=4, seed=0, dtype=torch.float32):
        super().__init__()
        with Model.init(d_model=d_model, n_heads=n_heads, n_layers=1, d_ff=1, seed=seed) as m:
            tensors = {k[len("layers.0.attn."):]: v for k, v in m.parameters().items() if k.startswith("layers.0.attn.")}
            flat, self._layout, off = [], {}, 0
            for k, v in tensors.items():
                self._layout[k] = (off, v.shape)
                flat.append(v.reshape(-1).copy())
                off += v.size
        self.d_model, self.n_heads, self.n_params = int(d_model), int(n_heads), off
        assert off == 4 * self.d_model ** 2 + 5 * self.d_model   # aaren_attention.h's block
        self.params = torch.nn.Parameter(torch.from_numpy(np.concatenate(flat)).to(dtype))
        self._engines = {}
        self._tokens = 0

    def _engine(self, dtype):
        if dtype not in (torch.float32, torch.float64):
            raise TypeError(f"AarenAttention computes in float32 or float64; got {dtype}")
        if dtype not in self._engines:
            self._engines[dtype] = _Engine("attention", (self.d_model, self.n_heads), dtype)
        return self._engines[dtype]

    def forward(self, x):
        """out = attention(x): x [B, N, d_model] or [N, d_model]; out the same shape."""
        return self._forward(x)

    def extra_repr(self):
        return f"d_model={self.d_model}, n_heads={self.n_heads}, params={self.n_params}"


__all__ = ["AarenAttention", "AarenEncoder", "EncoderFunction", "AarenError"]
