"""Loads libaaren.so and declares the C functions the package calls (ctypes)."""
import ctypes
import ctypes.util
import glob
import os

c_float_p = ctypes.POINTER(ctypes.c_float)
c_int_p = ctypes.POINTER(ctypes.c_int)
c_int64_p = ctypes.POINTER(ctypes.c_int64)
P = ctypes.c_void_p


class AarenError(RuntimeError):
    """A failure reported by the library; the message is the library's own."""


class Closable:
    """A wrapper of a library object freed by close(): usable in a with block, and closed when
    collected (close() must be safe to call twice)."""

    def close(self):
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


def _candidates():
    env = os.environ.get("AAREN_LIBRARY")
    if env:
        yield env
        return
    here = os.path.dirname(os.path.abspath(__file__))
    yield from sorted(glob.glob(os.path.join(here, "libaaren.so*")))
    # In place, from a checkout: python/aaren -> <repository>/build/libaaren.so
    yield os.path.join(here, "..", "..", "build", "libaaren.so")
    found = ctypes.util.find_library("aaren")
    if found:
        yield found
    yield "libaaren.so.0"


def _load():
    tried = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(path + " (absent)")
            continue
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            tried.append(f"{path} ({e})")
    raise ImportError("aaren: libaaren.so not found; build it (cmake) and install it, or set AAREN_LIBRARY "
                      "to its path. Tried: " + "; ".join(tried))


lib = _load()

_SIGS = {
    # name: (restype, argtypes); err/errlen appended where the last entry is "err"
    "aaren_version": (ctypes.c_char_p, []),
    "aaren_backend": (ctypes.c_char_p, []),
    "aaren_threads": (ctypes.c_int, []),
    "aaren_model_new": (P, [P, "err"]),
    "aaren_model_free": (None, [P]),
    "aaren_model_config": (P, [P]),
    "aaren_model_init": (None, [P, ctypes.c_uint64]),
    "aaren_model_n_tensors": (ctypes.c_int, [P]),
    "aaren_model_tensor_name": (ctypes.c_char_p, [P, ctypes.c_int]),
    "aaren_model_tensor": (c_float_p, [P, ctypes.c_int, c_int_p, c_int64_p]),
    "aaren_model_grad_tensor": (c_float_p, [P, ctypes.c_int]),
    "aaren_model_n_params": (ctypes.c_size_t, [P]),
    "aaren_model_reserve": (ctypes.c_int, [P, ctypes.c_int, ctypes.c_int, ctypes.c_int, "err"]),
    "aaren_model_forward": (ctypes.c_int, [P, c_float_p, c_float_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, "err"]),
    "aaren_model_backward": (ctypes.c_int, [P, c_float_p, c_float_p, "err"]),
    "aaren_model_zero_grad": (None, [P]),
    "aaren_model_load": (P, [ctypes.c_char_p, "err"]),
    "aaren_model_save": (ctypes.c_int, [P, ctypes.c_char_p, "err"]),
    "aaren_stream_new_batch": (P, [P, ctypes.c_int, ctypes.c_long, ctypes.c_int, "err"]),
    "aaren_stream_free": (None, [P]),
    "aaren_stream_reset": (None, [P]),
    "aaren_stream_reset_one": (ctypes.c_int, [P, ctypes.c_int]),
    "aaren_stream_step_batch": (ctypes.c_int, [P, c_float_p, c_float_p, "err"]),
    "aaren_stream_step_some": (ctypes.c_int, [P, c_int_p, ctypes.c_int, c_float_p, c_float_p, "err"]),
    "aaren_stream_prefill": (ctypes.c_int, [P, ctypes.c_int, c_float_p, ctypes.c_long, c_float_p, "err"]),
    "aaren_stream_position_one": (ctypes.c_long, [P, ctypes.c_int]),
    "aaren_stream_state_bytes": (ctypes.c_size_t, [P]),
    "aaren_stream_state_bytes_one": (ctypes.c_size_t, [P, ctypes.c_int]),
    "aaren_stream_state_size": (ctypes.c_size_t, [P]),
    "aaren_stream_state_size_one": (ctypes.c_size_t, [P, ctypes.c_int]),
    "aaren_stream_get_state": (ctypes.c_size_t, [P, ctypes.c_char_p, ctypes.c_size_t]),
    "aaren_stream_get_state_one": (ctypes.c_size_t, [P, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]),
    "aaren_stream_set_state": (ctypes.c_int, [P, ctypes.c_char_p, ctypes.c_size_t, "err"]),
    "aaren_stream_set_state_one": (ctypes.c_int, [P, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, "err"]),
}


def _declare():
    for name, (res, args) in _SIGS.items():
        f = getattr(lib, name)
        f.restype = res
        f.argtypes = [a for a in args if a != "err"] + ([ctypes.c_char_p, ctypes.c_size_t] if "err" in args else [])


_declare()


class ErrBuf:
    """A message buffer for one call: pass *e.args, then e.raise_() on failure."""
    __slots__ = ("buf",)

    def __init__(self):
        self.buf = ctypes.create_string_buffer(1024)

    @property
    def args(self):
        return (self.buf, len(self.buf))

    def raise_(self, what=None):
        msg = self.buf.value.decode("utf-8", "replace") or (what or "the library reported a failure")
        raise AarenError(msg)


def declare(name, restype, argtypes):
    """Declares one more C function (for modules that use functions beyond the core)."""
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = argtypes
    return f
