"""The encoder (Model) and its streams (Stream, BatchStream) over float32 numpy arrays."""
import ctypes
import os
import weakref

import numpy as np

from ._lib import AarenError, Closable, ErrBuf, c_float_p, c_int_p, c_int64_p, lib

ARCHS = {"aaren": 0, "transformer": 1}
NORMS = {"post": 0, "pre": 1}
ACTIVATIONS = {"gelu": 0, "relu": 1}
PATHS = {"scan": 0, "naive": 1, "fold": 2}


class Config(ctypes.Structure):
    """aaren_config (aaren.h)."""
    _fields_ = [("arch", ctypes.c_int), ("d_model", ctypes.c_int), ("n_heads", ctypes.c_int),
                ("n_layers", ctypes.c_int), ("d_ff", ctypes.c_int), ("norm", ctypes.c_int),
                ("activation", ctypes.c_int), ("ln_eps", ctypes.c_float)]


def make_config(arch="aaren", d_model=128, n_heads=4, n_layers=3, d_ff=512, norm="post", activation="gelu",
                ln_eps=1e-5):
    """An aaren_config from keyword values; unknown names raise ValueError."""
    for value, table, what in ((arch, ARCHS, "arch"), (norm, NORMS, "norm"), (activation, ACTIVATIONS, "activation")):
        if value not in table:
            raise ValueError(f"{what} must be one of {', '.join(table)}; got {value!r}")
    return Config(ARCHS[arch], int(d_model), int(n_heads), int(n_layers), int(d_ff), NORMS[norm],
                  ACTIVATIONS[activation], float(ln_eps))


def config_dict(c):
    """The fields of an aaren_config as names and numbers."""
    inv = lambda table, v: next(k for k, x in table.items() if x == v)
    return {"arch": inv(ARCHS, c.arch), "d_model": c.d_model, "n_heads": c.n_heads, "n_layers": c.n_layers,
            "d_ff": c.d_ff, "norm": inv(NORMS, c.norm), "activation": inv(ACTIVATIONS, c.activation),
            "ln_eps": float(c.ln_eps)}


def as_f32(x, name, ndims, width=None):
    """x as a C-ordered float32 array (no copy when it already is one) with one of the given
    numbers of dimensions and, when width is given, that many values in the last one."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array of float32; got {type(x).__name__}")
    if x.dtype != np.float32:
        raise TypeError(f"{name} must be float32; got {x.dtype}")
    if x.ndim not in ndims:
        raise ValueError(f"{name} must have {' or '.join(map(str, ndims))} dimensions; got shape {x.shape}")
    if width is not None and x.shape[-1] != width:
        raise ValueError(f"{name} has {x.shape[-1]} values per row; the model takes {width} (shape {x.shape})")
    if any(s == 0 for s in x.shape):
        raise ValueError(f"{name} is empty (shape {x.shape})")
    return np.ascontiguousarray(x)


def fptr(a):
    return a.ctypes.data_as(c_float_p)


# The per-token call with untyped pointers: numpy's .ctypes.data (an int) passes straight
# through, where data_as(POINTER(c_float)) costs several microseconds per array.
_step_fast = lib["aaren_stream_step_batch"]
_step_fast.restype = ctypes.c_int
_step_fast.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]


def _path(p):
    return os.fsencode(p)


class Model(Closable):
    """An encoder stack (Aaren or Transformer) held by the C library.

    Make one with Model.init(...) or Model.load(path); free it with close() (or a with
    block). Arrays are float32 numpy arrays [N, d_model] or [B, N, d_model]."""

    def __init__(self, handle, owner=None):
        # handle: an aaren_model*; owner: an object that owns it (then close() is its job)
        if not handle:
            raise AarenError("no model")
        self._h = handle
        self._owner = owner
        self._dependents = weakref.WeakSet()
        self._reserved = (0, 0, 0)
        self._cfg = config_dict(Config.from_address(lib.aaren_model_config(handle)))

    # ---- life cycle
    @classmethod
    def init(cls, arch="aaren", d_model=128, n_heads=4, n_layers=3, d_ff=512, norm="post", activation="gelu",
             ln_eps=1e-5, seed=0):
        """A new model with PyTorch-style initial weights drawn from seed."""
        cfg = make_config(arch, d_model, n_heads, n_layers, d_ff, norm, activation, ln_eps)
        e = ErrBuf()
        h = lib.aaren_model_new(ctypes.byref(cfg), *e.args)
        if not h:
            e.raise_()
        lib.aaren_model_init(h, ctypes.c_uint64(int(seed)))
        return cls(h)

    @classmethod
    def load(cls, path):
        """The encoder of a safetensors checkpoint (shared/docs/contract.md)."""
        e = ErrBuf()
        h = lib.aaren_model_load(_path(path), *e.args)
        if not h:
            e.raise_()
        return cls(h)

    def save(self, path):
        """Writes the encoder as a safetensors checkpoint (all or nothing)."""
        e = ErrBuf()
        if lib.aaren_model_save(self._handle(), _path(path), *e.args):
            e.raise_()

    def close(self):
        """Frees the model and closes its streams; later calls raise AarenError."""
        for s in list(self._dependents):
            s.close()
        if self._h and self._owner is None:
            lib.aaren_model_free(self._h)
        self._h = None

    def _handle(self):
        if not self._h:
            raise AarenError("the model is closed")
        if self._owner is not None and not self._owner._alive():
            raise AarenError("the model's owner is closed")
        return self._h

    # ---- description
    @property
    def config(self):
        """The architecture as a dict (arch, d_model, n_heads, n_layers, d_ff, norm, activation, ln_eps)."""
        return dict(self._cfg)

    @property
    def d_model(self):
        return self._cfg["d_model"]

    @property
    def n_params(self):
        """Parameters of the encoder."""
        return int(lib.aaren_model_n_params(self._handle()))

    def _tensor(self, i, grad=False):
        h = self._handle()
        nd = ctypes.c_int()
        shape = (ctypes.c_int64 * 2)()
        p = lib.aaren_model_tensor(h, i, ctypes.byref(nd), ctypes.cast(shape, c_int64_p))
        if grad:
            p = lib.aaren_model_grad_tensor(h, i)
        dims = tuple(shape[k] for k in range(nd.value))
        return np.ctypeslib.as_array(p, shape=dims)

    def parameters(self):
        """{name: array} of every tensor, as writable views of the model's own memory (no
        copy): valid while the model is open; assigning into them changes the model."""
        h = self._handle()
        out = {}
        for i in range(lib.aaren_model_n_tensors(h)):
            out[lib.aaren_model_tensor_name(h, i).decode()] = self._tensor(i)
        return out

    # ---- compute
    def _reserve(self, B, N, grads):
        b, n, g = self._reserved
        if B <= b and N <= n and (g or not grads):
            return
        B, N, grads = max(B, b), max(N, n), max(grads, g)
        e = ErrBuf()
        if lib.aaren_model_reserve(self._handle(), B, N, grads, *e.args):
            e.raise_()
        self._reserved = (B, N, grads)

    def encode(self, x, mode="scan"):
        """The stack's output at every position: y with x's shape ([N, d_model] or
        [B, N, d_model]). mode: "scan" (the parallel path), "naive" (quadratic reference),
        "fold" (Aaren's sequential fold) or "stream" (token by token through a stream)."""
        x = as_f32(x, "x", (2, 3), self.d_model)
        x3 = x[None] if x.ndim == 2 else x
        B, N, D = x3.shape
        y = np.empty_like(x3)
        if mode == "stream":
            s = BatchStream(self, B, max_tokens=N, prefill_chunk=1)
            try:
                buf = np.empty((B, D), np.float32)
                for t in range(N):
                    buf[...] = x3[:, t, :]
                    y[:, t, :] = s.step(buf)
            finally:
                s.close()
        elif mode in PATHS:
            self._reserve(B, N, 0)
            e = ErrBuf()
            if lib.aaren_model_forward(self._handle(), fptr(y), fptr(x3), B, N, PATHS[mode], *e.args):
                e.raise_()
        else:
            raise ValueError(f"mode must be scan, naive, fold or stream; got {mode!r}")
        return y[0] if x.ndim == 2 else y

    def grad(self, x, grad_output):
        """Gradients of sum(encode(x) * grad_output) with respect to every parameter (by
        name) and to the input ("input"), from the library's backward pass."""
        x = as_f32(x, "x", (2, 3), self.d_model)
        g = as_f32(grad_output, "grad_output", (2, 3), self.d_model)
        if g.shape != x.shape:
            raise ValueError(f"grad_output has shape {g.shape}; x has {x.shape}")
        x3 = x[None] if x.ndim == 2 else x
        g3 = g[None] if g.ndim == 2 else g
        B, N, _ = x3.shape
        self._reserve(B, N, 1)
        h = self._handle()
        y = np.empty_like(x3)
        dx = np.empty_like(x3)
        e = ErrBuf()
        lib.aaren_model_zero_grad(h)
        if lib.aaren_model_forward(h, fptr(y), fptr(x3), B, N, PATHS["scan"], *e.args) or \
                lib.aaren_model_backward(h, fptr(dx), fptr(g3), *e.args):
            e.raise_()
        out = {}
        for i in range(lib.aaren_model_n_tensors(h)):
            out[lib.aaren_model_tensor_name(h, i).decode()] = self._tensor(i, grad=True).copy()
        out["input"] = dx[0] if x.ndim == 2 else dx
        return out


class BatchStream(Closable):
    """n_streams independent streams of one model, stepped together one token each (one
    matrix product per weight matrix per step). Aaren keeps a constant state per stream; a
    Transformer keeps a KV cache of up to max_tokens per stream."""

    def __init__(self, model, n_streams, max_tokens=4096, prefill_chunk=256):
        if not isinstance(model, Model):
            raise TypeError("model must be an aaren.Model")
        e = ErrBuf()
        h = lib.aaren_stream_new_batch(model._handle(), int(n_streams), int(max_tokens), int(prefill_chunk), *e.args)
        if not h:
            e.raise_()
        self._h = h
        self._model = model
        self._err = ErrBuf()
        self.n_streams = int(n_streams)
        self.d_model = model.d_model
        model._dependents.add(self)

    def close(self):
        """Frees the stream (also done when its model is closed)."""
        if self._h:
            lib.aaren_stream_free(self._h)
            self._h = None

    def _handle(self):
        if not self._h:
            raise AarenError("the stream is closed")
        return self._h

    def _index(self, i):
        if not isinstance(i, (int, np.integer)) or not 0 <= i < self.n_streams:
            raise IndexError(f"stream index {i!r} is outside 0..{self.n_streams - 1}")
        return int(i)

    def _step(self, x, shape, ndims):
        if type(x) is not np.ndarray or x.dtype != np.float32 or x.shape != shape or not x.flags.c_contiguous:
            x = as_f32(x, "x", ndims, self.d_model)
            if x.shape != shape:
                raise ValueError(f"x has {x.shape[0]} rows; the batch holds {self.n_streams} streams")
        y = np.empty(shape, np.float32)
        e = self._err
        if _step_fast(self._handle(), x.ctypes.data, y.ctypes.data, e.buf, len(e.buf)):
            e.raise_()
        return y

    def step(self, x):
        """Feeds x [n_streams, d_model] (row i to stream i); returns the outputs, same shape."""
        return self._step(x, (self.n_streams, self.d_model), (2,))

    def step_some(self, streams, x):
        """Feeds row r of x [k, d_model] to stream streams[r] (distinct indices)."""
        idx = np.ascontiguousarray(np.asarray(streams, dtype=np.int32).reshape(-1))
        x = as_f32(x, "x", (2,), self.d_model)
        if x.shape[0] != idx.size:
            raise ValueError(f"x has {x.shape[0]} rows for {idx.size} streams")
        y = np.empty_like(x)
        e = ErrBuf()
        if lib.aaren_stream_step_some(self._handle(), idx.ctypes.data_as(c_int_p), idx.size, fptr(x), fptr(y), *e.args):
            e.raise_()
        return y

    def prefill(self, i, xs, outputs=True):
        """Feeds the tokens xs [N, d_model] to stream i through the parallel path; returns
        their outputs [N, d_model] (None with outputs=False, which skips work)."""
        i = self._index(i)
        xs = as_f32(xs, "xs", (2,), self.d_model)
        y = np.empty_like(xs) if outputs else None
        e = ErrBuf()
        if lib.aaren_stream_prefill(self._handle(), i, fptr(xs), xs.shape[0], fptr(y) if outputs else None, *e.args):
            e.raise_()
        return y

    def reset(self, i=None):
        """Back to position 0: every stream, or stream i."""
        if i is None:
            lib.aaren_stream_reset(self._handle())
        else:
            lib.aaren_stream_reset_one(self._handle(), self._index(i))

    def position(self, i=0):
        """Tokens stream i has seen."""
        return int(lib.aaren_stream_position_one(self._handle(), self._index(i)))

    def state_bytes(self, i=None):
        """Bytes of recurrent state now (all streams, or stream i)."""
        if i is None:
            return int(lib.aaren_stream_state_bytes(self._handle()))
        return int(lib.aaren_stream_state_bytes_one(self._handle(), self._index(i)))

    def state(self, i=None):
        """The state (position and recurrent state) as bytes: of every stream, or stream i."""
        h = self._handle()
        if i is None:
            n = lib.aaren_stream_state_size(h)
            buf = ctypes.create_string_buffer(max(n, 1))
            got = lib.aaren_stream_get_state(h, buf, n)
        else:
            i = self._index(i)
            n = lib.aaren_stream_state_size_one(h, i)
            buf = ctypes.create_string_buffer(max(n, 1))
            got = lib.aaren_stream_get_state_one(h, i, buf, n)
        if got != n:
            raise AarenError("the stream's state could not be read")
        return buf.raw[:n]

    def set_state(self, state, i=None):
        """Restores bytes from state(): every stream, or stream i. Nothing changes on error."""
        if not isinstance(state, (bytes, bytearray)):
            raise TypeError("state must be bytes")
        state = bytes(state)
        e = ErrBuf()
        if i is None:
            rc = lib.aaren_stream_set_state(self._handle(), state, len(state), *e.args)
        else:
            rc = lib.aaren_stream_set_state_one(self._handle(), self._index(i), state, len(state), *e.args)
        if rc:
            e.raise_()


class Stream(BatchStream):
    """One stream of a model: step(x [d_model]) -> y [d_model], one token at a time."""

    def __init__(self, model, max_tokens=4096, prefill_chunk=256):
        super().__init__(model, 1, max_tokens, prefill_chunk)

    def step(self, x):
        """Feeds one token x [d_model]; returns the output at the new position [d_model]."""
        return self._step(x, (self.d_model,), (1,))

    def prefill(self, xs, outputs=True):
        """Feeds tokens xs [N, d_model] through the parallel path; returns their outputs."""
        return super().prefill(0, xs, outputs)
