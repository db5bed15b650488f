"""A sequence model (linear embedding, encoder, linear head) and its training on numpy arrays
through the library's engine (aaren_fit)."""
import csv
import ctypes
import os
import tempfile

import numpy as np

from ._lib import AarenError, Closable, ErrBuf, P, c_float_p, c_int_p, declare
from .core import Config, Model, as_f32, fptr, make_config

LOSSES = {"mse": 0, "ce": 1}
SCHEDULES = {"constant": 0, "cosine": 1}


class _Arrays(ctypes.Structure):
    _fields_ = [("x", c_float_p), ("target", c_float_p), ("labels", c_int_p), ("lengths", c_int_p),
                ("n", ctypes.c_long), ("N", ctypes.c_int)]


class _FitOptions(ctypes.Structure):
    _fields_ = [("loss", ctypes.c_int), ("last_only", ctypes.c_int), ("epochs", ctypes.c_int), ("batch", ctypes.c_int),
                ("patience", ctypes.c_int), ("lr", ctypes.c_float), ("weight_decay", ctypes.c_float),
                ("clip", ctypes.c_float), ("dropout", ctypes.c_float), ("schedule", ctypes.c_int),
                ("warmup_steps", ctypes.c_long), ("seed", ctypes.c_uint64), ("log", ctypes.c_char_p),
                ("save", ctypes.c_char_p), ("verbose", ctypes.c_int)]


class _FitResult(ctypes.Structure):
    _fields_ = [("steps", ctypes.c_long), ("epochs_run", ctypes.c_int), ("best_epoch", ctypes.c_int),
                ("best_score", ctypes.c_double), ("best_tie", ctypes.c_double), ("n_best", ctypes.c_int),
                ("best_name", (ctypes.c_char * 32) * 6), ("best_value", ctypes.c_double * 6),
                ("last_loss", ctypes.c_double), ("seconds", ctypes.c_double), ("tokens_per_s", ctypes.c_double),
                ("reduce_seconds", ctypes.c_double),
                ("stopped", ctypes.c_int)]


class _St(ctypes.Structure):
    _fields_ = [("tensors", P), ("n_tensors", ctypes.c_int), ("cap_tensors", ctypes.c_int),
                ("meta_keys", P), ("meta_vals", P), ("n_meta", ctypes.c_int), ("cap_meta", ctypes.c_int)]


_E = [ctypes.c_char_p, ctypes.c_size_t]
_new = declare("aaren_seqmodel_new", P, [P, ctypes.c_int, ctypes.c_int] + _E)
_free = declare("aaren_seqmodel_free", None, [P])
_encoder = declare("aaren_seqmodel_encoder", P, [P])
_init = declare("aaren_seqmodel_init", None, [P, ctypes.c_uint64])
_d_in = declare("aaren_seqmodel_d_in", ctypes.c_int, [P])
_d_out = declare("aaren_seqmodel_d_out", ctypes.c_int, [P])
_reserve = declare("aaren_seqmodel_reserve", ctypes.c_int, [P, ctypes.c_int, ctypes.c_int, ctypes.c_int] + _E)
_forward = declare("aaren_seqmodel_forward", c_float_p, [P, c_float_p, ctypes.c_int, ctypes.c_int, ctypes.c_int] + _E)
_forward_last = declare("aaren_seqmodel_forward_last", c_float_p,
                        [P, c_float_p, ctypes.c_int, ctypes.c_int, c_int_p, ctypes.c_int] + _E)
_to_st = declare("aaren_seqmodel_to_st", ctypes.c_int, [P, P])
_from_st = declare("aaren_seqmodel_from_st", P, [P, ctypes.c_char_p] + _E)
_st_init = declare("aaren_st_init", None, [P])
_st_free = declare("aaren_st_free", None, [P])
_st_read = declare("aaren_st_read", ctypes.c_int, [ctypes.c_char_p, P] + _E)
_st_write = declare("aaren_st_write", ctypes.c_int, [ctypes.c_char_p, P] + _E)
_opts_init = declare("aaren_arrays_fit_options_init", None, [P])
_fit = declare("aaren_seqmodel_fit_arrays", ctypes.c_int, [P, P, P, P, P] + _E)
_loss = declare("aaren_seqmodel_loss_arrays", ctypes.c_double, [P, P, ctypes.c_int, ctypes.c_int, ctypes.c_int] + _E)


def _lengths(lengths, n, N):
    if lengths is None:
        return None
    a = np.ascontiguousarray(np.asarray(lengths), dtype=np.int32)
    if a.shape != (n,):
        raise ValueError(f"lengths must hold one length per example ({n}); got shape {a.shape}")
    if a.size and (a.min() < 1 or a.max() > N):
        raise ValueError(f"lengths must be from 1 to {N}")
    return a


class SeqModel(Closable):
    """pred = head(encoder(embed(x))): x [n, N, d_in] -> [n, N, d_out], or [n, d_out] at each
    example's last valid token (last_only). Trained with fit() through the library's engine."""

    def __init__(self, d_in, d_out, arch="aaren", d_model=64, n_heads=4, n_layers=2, d_ff=128, norm="post",
                 activation="gelu", ln_eps=1e-5, seed=0, _handle=None):
        if _handle is None:
            cfg = make_config(arch, d_model, n_heads, n_layers, d_ff, norm, activation, ln_eps)
            e = ErrBuf()
            _handle = _new(ctypes.byref(cfg), int(d_in), int(d_out), *e.args)
            if not _handle:
                e.raise_()
            _init(_handle, ctypes.c_uint64(int(seed)))
        self._h = _handle
        self.d_in, self.d_out = int(_d_in(self._h)), int(_d_out(self._h))
        self._encoder = Model(_encoder(self._h), owner=self)
        self._reserved = (0, 0)

    def _alive(self):
        return bool(self._h)

    def _handle(self):
        if not self._h:
            raise AarenError("the model is closed")
        return self._h

    @property
    def encoder(self):
        """The encoder as an aaren.Model (owned by this model: valid while it is open)."""
        self._handle()
        return self._encoder

    @classmethod
    def load(cls, path):
        """A sequence model from a checkpoint (its own save, or a run checkpoint of fit)."""
        st = _St()
        e = ErrBuf()
        if _st_read(os.fsencode(path), ctypes.byref(st), *e.args):
            e.raise_()
        try:
            h = _from_st(ctypes.byref(st), os.fsencode(path), *e.args)
        finally:
            _st_free(ctypes.byref(st))
        if not h:
            e.raise_()
        return cls(0, 0, _handle=h)

    def save(self, path):
        """Writes the model (encoder, embed.*, head.*, seq.* metadata) as safetensors."""
        st = _St()
        _st_init(ctypes.byref(st))
        e = ErrBuf()
        try:
            if _to_st(self._handle(), ctypes.byref(st)):
                raise AarenError(f"{path}: out of memory")
            if _st_write(os.fsencode(path), ctypes.byref(st), *e.args):
                e.raise_()
        finally:
            _st_free(ctypes.byref(st))

    def close(self):
        """Frees the model; later calls raise AarenError."""
        if self._h:
            self._encoder.close()
            _free(self._h)
            self._h = None

    def _check_x(self, x):
        x = as_f32(x, "x", (3,), self.d_in)
        return x

    def predict(self, x, lengths=None, last_only=False, batch=64):
        """Predictions for x [n, N, d_in]: [n, N, d_out], or [n, d_out] with last_only (at
        each example's last valid token, lengths [n] or all N)."""
        h = self._handle()
        x = self._check_x(x)
        n, N, _ = x.shape
        lens = _lengths(lengths, n, N)
        out = np.empty((n, self.d_out) if last_only else (n, N, self.d_out), np.float32)
        B = min(batch, n)
        if B > self._reserved[0] or N > self._reserved[1]:
            e = ErrBuf()
            if _reserve(h, max(B, self._reserved[0]), max(N, self._reserved[1]), 0, *e.args):
                e.raise_()
            self._reserved = (max(B, self._reserved[0]), max(N, self._reserved[1]))
        for i in range(0, n, B):
            xb = x[i:i + B]
            b = xb.shape[0]
            e = ErrBuf()
            if last_only:
                lb = lens[i:i + B] if lens is not None else np.full(b, N, np.int32)
                p = _forward_last(h, fptr(xb), b, N, lb.ctypes.data_as(c_int_p), 0, *e.args)
            else:
                p = _forward(h, fptr(xb), b, N, 0, *e.args)
            if not p:
                e.raise_()
            out[i:i + b] = np.ctypeslib.as_array(p, shape=out[i:i + b].shape)
        return out

    def _arrays(self, x, y, lengths, loss, last_only, what):
        x = self._check_x(x)
        n, N, _ = x.shape
        lens = _lengths(lengths, n, N)
        keep = [x, lens]
        a = _Arrays(fptr(x), None, None, lens.ctypes.data_as(c_int_p) if lens is not None else None, n, N)
        want = (n,) if last_only else (n, N)
        if loss == "mse":
            y = as_f32(y, f"{what} targets", (2, 3))
            if y.shape != want + (self.d_out,):
                raise ValueError(f"{what} targets must have shape {want + (self.d_out,)}; got {y.shape}")
            a.target = fptr(y)
        else:
            y = np.asarray(y)
            if not np.issubdtype(y.dtype, np.integer):
                raise TypeError(f"{what} labels must be integers; got {y.dtype}")
            y = np.ascontiguousarray(y, dtype=np.int32)
            if y.shape != want:
                raise ValueError(f"{what} labels must have shape {want}; got {y.shape}")
            a.labels = y.ctypes.data_as(c_int_p)
        keep.append(y)
        return a, keep

    def fit(self, x, y, lengths=None, loss="mse", last_only=False, validation=None, epochs=10, batch=32, patience=0,
            lr=1e-3, weight_decay=0.01, clip=1.0, dropout=0.0, schedule="constant", warmup_steps=0, seed=1,
            log=None, save=None, verbose=False):
        """Trains on x [n, N, d_in] with targets y (loss "mse": float32 [n, N, d_out], or
        [n, d_out] with last_only; "ce": integer class labels [n, N] or [n]) through the
        library's engine: AdamW, epochs over shuffled batches, dropout, clipping; with
        validation=(x, y) or (x, y, lengths), its mean loss after each epoch decides early
        stopping (patience epochs) and the best weights are restored. log: the engine's CSV
        log; save: a run checkpoint that is also the model file. Returns the history: a dict
        with "step", "epoch" and "loss" per step, "val_epoch" and "val_loss" per epoch, and
        "best_epoch", "steps", "seconds"."""
        h = self._handle()
        if loss not in LOSSES:
            raise ValueError(f"loss must be mse or ce; got {loss!r}")
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule must be constant or cosine; got {schedule!r}")
        tr, keep = self._arrays(x, y, lengths, loss, last_only, "training")
        va = None
        if validation is not None:
            if not isinstance(validation, (tuple, list)) or len(validation) not in (2, 3):
                raise ValueError("validation must be (x, y) or (x, y, lengths)")
            va, keep_v = self._arrays(validation[0], validation[1], validation[2] if len(validation) == 3 else None,
                                      loss, last_only, "validation")
            keep += keep_v
        with tempfile.TemporaryDirectory() as d:
            log_path = log or os.path.join(d, "log.csv")
            o = _FitOptions()
            _opts_init(ctypes.byref(o))
            o.loss, o.last_only, o.epochs, o.batch, o.patience = LOSSES[loss], int(bool(last_only)), int(epochs), \
                int(batch), int(patience)
            o.lr, o.weight_decay, o.clip, o.dropout = float(lr), float(weight_decay), float(clip), float(dropout)
            o.schedule, o.warmup_steps, o.seed = SCHEDULES[schedule], int(warmup_steps), int(seed)
            o.log = os.fsencode(log_path)
            o.save = os.fsencode(save) if save else None
            o.verbose = int(bool(verbose))
            r = _FitResult()
            e = ErrBuf()
            if _fit(h, ctypes.byref(tr), ctypes.byref(va) if va is not None else None, ctypes.byref(o),
                    ctypes.byref(r), *e.args):
                e.raise_()
            hist = {"step": [], "epoch": [], "loss": [], "val_epoch": [], "val_loss": []}
            with open(log_path, newline="") as f:
                for row in csv.DictReader(f):
                    if row["kind"] == "train":
                        hist["step"].append(int(row["step"]))
                        hist["epoch"].append(int(row["epoch"]))
                        hist["loss"].append(float(row["loss"]))
                    elif row["kind"] == "eval" and row["metric"] == "val_loss":
                        hist["val_epoch"].append(int(row["epoch"]))
                        hist["val_loss"].append(float(row["value"]))
        hist.update(best_epoch=r.best_epoch, steps=r.steps, seconds=r.seconds)
        del keep
        return hist

    def loss(self, x, y, lengths=None, loss="mse", last_only=False, batch=32):
        """Mean loss on (x, y) without dropout, as fit measures validation."""
        h = self._handle()
        if loss not in LOSSES:
            raise ValueError(f"loss must be mse or ce; got {loss!r}")
        a, keep = self._arrays(x, y, lengths, loss, last_only, "evaluation")
        e = ErrBuf()
        v = _loss(h, ctypes.byref(a), LOSSES[loss], int(bool(last_only)), int(batch), *e.args)
        if v != v and e.buf.value:
            e.raise_()
        del keep
        return float(v)
