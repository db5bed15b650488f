"""Trained task models from the command-line tool's checkpoints: a time-series classifier
(`aaren classify --save`)."""
import ctypes
import os

import numpy as np

from ._lib import AarenError, Closable, ErrBuf, P, c_float_p, declare

_E = [ctypes.c_char_p, ctypes.c_size_t]
_load = declare("aaren_classifier_load", P, [ctypes.c_char_p] + _E)
_free = declare("aaren_classifier_free", None, [P])
_n_classes = declare("aaren_classifier_n_classes", ctypes.c_int, [P])
_n_dims = declare("aaren_classifier_n_dims", ctypes.c_int, [P])
_label = declare("aaren_classifier_label", ctypes.c_char_p, [P, ctypes.c_int])
_proba = declare("aaren_classifier_predict_proba", ctypes.c_int,
                 [P, ctypes.POINTER(c_float_p), ctypes.POINTER(ctypes.c_int), ctypes.c_int, c_float_p] + _E)
_predict_file = declare("aaren_classifier_predict_file", ctypes.c_int,
                        [P, ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int),
                         ctypes.POINTER(ctypes.c_double), P] + _E)
_save = declare("aaren_classifier_save", ctypes.c_int, [P, ctypes.c_char_p] + _E)


class Classifier(Closable):
    """A trained time-series classifier. Cases are float32 arrays [n_channels, n_timepoints]
    (aeon's layout); X is an array [n_cases, n_channels, n_timepoints] or a list of cases of
    unequal lengths; NaN marks a missing value."""

    def __init__(self, handle):
        self._h = handle
        self.n_dims = int(_n_dims(handle))
        self.classes_ = [_label(handle, k).decode() for k in range(_n_classes(handle))]

    @classmethod
    def load(cls, path):
        """A classifier from a checkpoint written by `aaren classify --save` (or save())."""
        e = ErrBuf()
        h = _load(os.fsencode(path), *e.args)
        if not h:
            e.raise_()
        return cls(h)

    def save(self, path):
        """Writes the checkpoint (the tool reads it with `aaren classify --model`)."""
        e = ErrBuf()
        if _save(self._handle(), os.fsencode(path), *e.args):
            e.raise_()

    def close(self):
        """Frees the classifier; later calls raise AarenError."""
        if self._h:
            _free(self._h)
            self._h = None

    def _handle(self):
        if not self._h:
            raise AarenError("the classifier is closed")
        return self._h

    def predict_proba(self, X):
        """Class probabilities [n_cases, n_classes], columns in the order of classes_."""
        h = self._handle()
        cases = list(X) if not isinstance(X, np.ndarray) else [X[i] for i in range(X.shape[0])]
        if isinstance(X, np.ndarray) and X.ndim != 3:
            raise ValueError(f"X must be [n_cases, n_channels, n_timepoints]; got shape {X.shape}")
        keep = []
        for i, c in enumerate(cases):
            if not isinstance(c, np.ndarray) or c.dtype != np.float32:
                raise TypeError(f"case {i} must be a float32 numpy array")
            if c.ndim != 2 or c.shape[0] != self.n_dims or c.shape[1] < 1:
                raise ValueError(f"case {i} must be [{self.n_dims}, n_timepoints]; got shape {c.shape}")
            keep.append(np.ascontiguousarray(c))
        n = len(keep)
        out = np.empty((n, len(self.classes_)), np.float32)
        if n == 0:
            return out
        ptrs = (c_float_p * n)(*[k.ctypes.data_as(c_float_p) for k in keep])
        lens = (ctypes.c_int * n)(*[k.shape[1] for k in keep])
        e = ErrBuf()
        if _proba(h, ptrs, lens, n, out.ctypes.data_as(c_float_p), *e.args):
            e.raise_()
        return out

    def predict(self, X):
        """The most probable class label of each case."""
        p = self.predict_proba(X)
        return np.array([self.classes_[k] for k in p.argmax(axis=1)], dtype=object)

    def predict_file(self, path, predictions=None):
        """Scores a UEA `.ts` file: (cases, accuracy); predictions names a CSV to write (as
        `aaren classify --predictions`)."""
        n = ctypes.c_int()
        acc = ctypes.c_double()
        e = ErrBuf()
        if _predict_file(self._handle(), os.fsencode(path), os.fsencode(predictions) if predictions else None,
                         ctypes.byref(n), ctypes.byref(acc), None, *e.args):
            e.raise_()
        return n.value, acc.value
